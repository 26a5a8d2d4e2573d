//! The accept loop: every connection in its own task from the first byte (a TLS handshake that
//! stalls holds only its own connection, and times out), at most `max_connections` open, request
//! headers within `header_timeout` (which also closes idle connections), graceful shutdown.

use crate::guard::{Limits, PeerNames};
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;

/// Serves `app` on `tcp` (HTTPS when `tls` is given) until `shutdown` completes, then lets open
/// requests finish (at most 10 s).
pub async fn serve(
    tcp: TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    let acceptor = tls.map(TlsAcceptor::from);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let connections = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_headers(64);
    let mut refused = 0u64;
    tokio::pin!(shutdown);
    loop {
        let (stream, addr) = tokio::select! {
            accepted = tcp.accept() => match accepted {
                Ok(s) => s,
                Err(e) => {
                    // Out of file descriptors and the like: wait instead of spinning.
                    tracing::warn!("accept: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let Ok(permit) = connections.clone().try_acquire_owned() else {
            refused += 1;
            if refused.is_power_of_two() {
                tracing::warn!(
                    "{} connections open: refused {refused} so far",
                    limits.max_connections
                );
            }
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let (app, http, acceptor, watcher) = (
            app.clone(),
            http.clone(),
            acceptor.clone(),
            graceful.watcher(),
        );
        let handshake = limits.handshake_timeout;
        tokio::spawn(async move {
            let _permit = permit;
            let Some(acceptor) = acceptor else {
                return serve_connection(http, stream, app, None, watcher).await;
            };
            match tokio::time::timeout(handshake, acceptor.accept(stream)).await {
                Ok(Ok(tls)) => {
                    let names = tls
                        .get_ref()
                        .1
                        .peer_certificates()
                        .and_then(|c| c.first())
                        .map(|leaf| PeerNames(Arc::new(certificate_names(leaf))));
                    serve_connection(http, tls, app, names, watcher).await
                }
                Ok(Err(e)) => tracing::warn!("TLS handshake with {addr} failed: {e}"),
                Err(_) => tracing::warn!("TLS handshake with {addr} timed out"),
            }
        });
    }
    drop(tcp);
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(Duration::from_secs(10)) => {}
    }
}

async fn serve_connection<I>(
    http: hyper::server::conn::http1::Builder,
    io: I,
    app: Router,
    names: Option<PeerNames>,
    watcher: hyper_util::server::graceful::Watcher,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service =
        hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
            if let Some(n) = &names {
                req.extensions_mut().insert(n.clone());
            }
            tower::ServiceExt::oneshot(app.clone(), req)
        });
    let conn = http.serve_connection(TokioIo::new(io), service);
    if let Err(e) = watcher.watch(conn).await {
        tracing::debug!("connection: {e}");
    }
}

/// The subject's common names and the DNS alternative names of a DER certificate (empty
/// when it cannot be parsed: such a certificate names no kiosk).
pub fn certificate_names(der: &[u8]) -> Vec<String> {
    use x509_cert::der::asn1::{Ia5StringRef, PrintableStringRef, Utf8StringRef};
    use x509_cert::der::{Decode, Tagged};
    use x509_cert::ext::pkix::name::GeneralName;
    use x509_cert::ext::pkix::SubjectAltName;
    const COMMON_NAME: &str = "2.5.4.3";
    const SUBJECT_ALT_NAME: &str = "2.5.29.17";
    let Ok(cert) = x509_cert::Certificate::from_der(der) else {
        return Vec::new();
    };
    let mut names = Vec::new();
    for rdn in cert.tbs_certificate.subject.0.iter() {
        for atv in rdn.0.iter() {
            if atv.oid.to_string() != COMMON_NAME {
                continue;
            }
            let v = &atv.value;
            let text = match v.tag() {
                x509_cert::der::Tag::Utf8String => v
                    .decode_as::<Utf8StringRef<'_>>()
                    .ok()
                    .map(|s| s.as_str().to_string()),
                x509_cert::der::Tag::PrintableString => v
                    .decode_as::<PrintableStringRef<'_>>()
                    .ok()
                    .map(|s| s.as_str().to_string()),
                x509_cert::der::Tag::Ia5String => v
                    .decode_as::<Ia5StringRef<'_>>()
                    .ok()
                    .map(|s| s.as_str().to_string()),
                _ => None,
            };
            names.extend(text);
        }
    }
    for ext in cert.tbs_certificate.extensions.iter().flatten() {
        if ext.extn_id.to_string() != SUBJECT_ALT_NAME {
            continue;
        }
        if let Ok(san) = SubjectAltName::from_der(ext.extn_value.as_bytes()) {
            for name in san.0 {
                if let GeneralName::DnsName(s) = name {
                    names.push(s.as_str().to_string());
                }
            }
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::certificate_names;

    fn cert(cn: &str, dns: &[&str]) -> Vec<u8> {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut p =
            rcgen::CertificateParams::new(dns.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                .unwrap();
        p.distinguished_name.push(rcgen::DnType::CommonName, cn);
        p.self_signed(&key).unwrap().der().to_vec()
    }

    #[test]
    fn a_certificate_names_its_cn_and_dns_alternative_names() {
        assert_eq!(certificate_names(&cert("KA-01", &[])), vec!["KA-01"]);
        assert_eq!(
            certificate_names(&cert("kiosk", &["KB-02", "kb-02.hall.example"])),
            vec!["kiosk", "KB-02", "kb-02.hall.example"]
        );
        // Not a certificate: names nothing (so it is no kiosk's), no panic.
        assert!(certificate_names(b"").is_empty());
        assert!(certificate_names(&[0x30, 0x82, 0xff, 0xff, 0x01]).is_empty());
    }
}
