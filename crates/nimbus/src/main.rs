//! nimbus: the AWS serverless toolbox on one machine.

mod aws_client;
mod cli;
mod logs_cmd;
mod serve;

use clap::Parser;

// mimalloc: glibc's malloc was about 15% of a small S3 request's CPU (its
// consolidation of freed chunks most of all); mimalloc's thread-local free lists
// cost a fraction of that.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
