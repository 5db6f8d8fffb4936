//! `scopegate-proxy --config proxy.toml`: the identity-aware reverse proxy. Without an
//! `[issuer]` section it runs the built-in dev issuer and prints tokens to try.

use std::path::PathBuf;

use clap::Parser;
use scopegate_proxy::{Drain, Proxy, ProxyConfig, ServerLimits};

#[cfg(feature = "dev-issuer")]
mod dev_mode;

/// An identity-aware reverse proxy: OAuth 2.0 bearer tokens and verb:resource scopes in
/// front of services in any language.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// The TOML configuration (routes, issuer, forwarding).
    #[arg(long)]
    config: PathBuf,
}

fn main() -> std::process::ExitCode {
    match runtime() {
        Ok(runtime) => runtime.block_on(async_main()),
        Err(error) => {
            eprintln!("scopegate-proxy: cannot start the runtime: {error}");
            std::process::ExitCode::from(2)
        }
    }
}

/// One thread when the process may run on one CPU (a container limited to one, or
/// pinned with taskset): no work-stealing and no cross-thread wake-ups on the hot
/// path. Otherwise one worker per CPU.
fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    let mut builder = if cpus == 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    };
    builder.enable_all().build()
}

async fn async_main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    match run(Args::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("scopegate-proxy: {error}");
            std::process::ExitCode::from(2)
        }
    }
}

async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let config = ProxyConfig::from_file(&args.config)?;
    #[cfg(feature = "dev-issuer")]
    let mut dev_issuer = None;
    let verifier = match config.verifier()? {
        Some(verifier) => verifier,
        #[cfg(feature = "dev-issuer")]
        None => {
            let (issuer, verifier) = dev_mode::start(&config).await?;
            dev_issuer = Some(issuer);
            verifier
        }
        #[cfg(not(feature = "dev-issuer"))]
        None => {
            return Err(
                "no [issuer] section, and this build has no built-in dev issuer \
                        (feature `dev-issuer`): name the issuer whose tokens to accept"
                    .into(),
            );
        }
    };
    if let Err(error) = verifier.refresh_keys().await {
        tracing::warn!(%error, "issuer keys unavailable at startup; answering 503 until they are");
    }
    let proxy = Proxy::new(&config, verifier)?;
    let limits = ServerLimits::from_config(&config)?;
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    let addr = listener.local_addr()?;
    announce(addr);
    #[cfg(feature = "dev-issuer")]
    if let Some(issuer) = &dev_issuer {
        dev_mode::announce(addr, issuer);
    }
    let drain_timeout = limits.drain_timeout();
    let (first_signal, first_signal_seen) = tokio::sync::oneshot::channel();
    let stop = async {
        stop_requested().await;
        let _ = first_signal.send(());
    };
    // A second signal while draining exits at once.
    let second_signal = async {
        if first_signal_seen.await.is_ok() {
            stop_requested().await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        drained = scopegate_proxy::serve_with_shutdown(listener, proxy, limits, stop) => match drained {
            Drain::Complete => tracing::info!("every connection closed; exiting"),
            Drain::TimedOut { open_connections } => tracing::warn!(
                open_connections,
                ?drain_timeout,
                "drain timeout passed; remaining connections cut"
            ),
        },
        () = second_signal => tracing::warn!("second signal: exiting without draining"),
    }
    Ok(())
}

/// Resolves on ctrl-c or (Unix) SIGTERM. A signal handler that cannot be installed is
/// logged and waited on no further (the other still works).
async fn stop_requested() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::warn!(%error, "cannot listen for ctrl-c");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                terminate.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("ctrl-c: shutting down"),
        () = terminate => tracing::info!("SIGTERM: shutting down"),
    }
}

/// Where the proxy listens.
#[allow(clippy::print_stdout, reason = "the binary's announcement")]
fn announce(addr: std::net::SocketAddr) {
    println!("scopegate-proxy listening on http://{addr}");
}
