//! Command-line interface.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(name = "nimbus", version, about = "The AWS serverless toolbox on one machine: point any AWS SDK or the aws CLI at it.")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the server (all services on one port).
    Serve(ServeArgs),
    /// Print the shell exports that point AWS SDKs and the aws CLI at nimbus:
    /// eval "$(nimbus env)"
    Env(EndpointArgs),
    /// Show a function's logs (/aws/lambda/<name>) or any log group's (a name starting
    /// with '/'), from a running server.
    Logs(LogsArgs),
}

#[derive(Args)]
pub struct LogsArgs {
    /// A Lambda function name, or a log group name starting with '/'.
    pub target: String,
    /// Keep polling for new events (every second) until interrupted.
    #[arg(long, short = 'f')]
    pub follow: bool,
    /// How far back to start: 30s, 10m, 2h, 1d, 1w.
    #[arg(long, default_value = "10m")]
    pub since: String,
    /// The nimbus server to read from (default http://127.0.0.1:4566).
    #[arg(long, env = "AWS_ENDPOINT_URL")]
    pub endpoint_url: Option<String>,
    /// The region whose log groups to read.
    #[arg(long, default_value = "us-east-1", env = "AWS_DEFAULT_REGION")]
    pub region: String,
}

#[derive(Args, Clone)]
pub struct EndpointArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1", env = "NIMBUS_HOST")]
    pub host: String,
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 4566, env = "NIMBUS_PORT")]
    pub port: u16,
}

#[derive(Copy, Clone, PartialEq, Eq, ValueEnum)]
pub enum DurabilityArg {
    /// An acknowledged write survives kill -9 of the server (no fsync per request).
    Default,
    /// An acknowledged write also survives power loss (one fsync per batch of writes).
    Strict,
}

#[derive(Copy, Clone, PartialEq, Eq, ValueEnum)]
pub enum AuthArg {
    /// Verify signatures of known access keys (test/test); accept other keys unverified.
    Lenient,
    /// Reject unknown access keys and unsigned requests.
    Strict,
}

#[derive(Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub endpoint: EndpointArgs,
    /// Directory that holds all state.
    #[arg(long, default_value = ".nimbus", env = "NIMBUS_DATA_DIR")]
    pub data_dir: PathBuf,
    /// Keep nothing on disk; all state is lost when the server stops.
    #[arg(long, conflicts_with = "durability")]
    pub in_memory: bool,
    /// How far an acknowledged write survives.
    #[arg(long, value_enum, default_value = "default")]
    pub durability: DurabilityArg,
    /// How requests are authenticated.
    #[arg(long, value_enum, default_value = "lenient", env = "NIMBUS_AUTH")]
    pub auth: AuthArg,
    /// Log filter (error, warn, info, debug, trace, or tracing directives); debug logs every request.
    #[arg(long, default_value = "info", env = "NIMBUS_LOG")]
    pub log: String,
}

pub fn env_exports(args: &EndpointArgs) -> String {
    let host = if args.host == "0.0.0.0" { "127.0.0.1" } else { &args.host };
    format!(
        "export AWS_ENDPOINT_URL=http://{host}:{port}\n\
         export AWS_ACCESS_KEY_ID=test\n\
         export AWS_SECRET_ACCESS_KEY=test\n\
         export AWS_DEFAULT_REGION=us-east-1\n",
        port = args.port
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_lists_the_four_exports() {
        let out = env_exports(&EndpointArgs { host: "127.0.0.1".into(), port: 5000 });
        assert!(out.contains("export AWS_ENDPOINT_URL=http://127.0.0.1:5000\n"));
        assert_eq!(out.lines().count(), 4);
    }
}
