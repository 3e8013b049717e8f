//! nimbus: the AWS serverless toolbox on one machine.

mod aws_client;
mod cli;
mod logs_cmd;
mod serve;

use clap::Parser;

fn main() {
    let cli = cli::Cli::parse();
    let code = match cli.command {
        cli::Command::Serve(args) => serve::run(args),
        cli::Command::Logs(args) => logs_cmd::run(args),
        cli::Command::Env(args) => {
            print!("{}", cli::env_exports(&args));
            0
        }
    };
    std::process::exit(code);
}
