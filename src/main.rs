//! The `minutebook` binary: a thin shell around `minutebook::cli`.

fn main() {
    std::process::exit(minutebook::cli::main());
}
