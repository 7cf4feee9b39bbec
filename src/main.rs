fn main() -> std::process::ExitCode {
    kubectl_storage_doctor::cli::main()
}
