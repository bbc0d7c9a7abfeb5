//! The `retort` command line; see `retort --help`.

fn main() -> std::process::ExitCode {
    retort_cli::main()
}
