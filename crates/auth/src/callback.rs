//! The loopback listener of OAuth authorization code flows (AzureAD, DataZoneIdC): the browser
//! is sent to the identity provider, which redirects it to `http://127.0.0.1:<port>/<path>`
//! with `?code=...&state=...` (or `?error=...`); the code is taken from that request.

use std::collections::HashMap;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::error::{Error, Result};

/// The step name of every callback failure.
pub(crate) const STEP: &str = "wait for the sign-in callback";

/// How long a user has to sign in.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(300);

/// A listening callback endpoint.
#[derive(Debug)]
pub(crate) struct Callback {
    scheme: &'static str,
    listener: TcpListener,
    redirect_uri: reqwest::Url,
}

impl Callback {
    /// Listens on `url` (`localhost` is bound as 127.0.0.1); without a URL, on a free port of
    /// 127.0.0.1 with the path `default_path`.
    pub(crate) async fn listen(
        scheme: &'static str,
        url: Option<&reqwest::Url>,
        default_path: &str,
    ) -> Result<Self> {
        let (host, port) = match url {
            Some(u) => {
                let host = match u.host_str() {
                    Some("localhost") | None => "127.0.0.1".to_string(),
                    Some(h) => h.trim_matches(['[', ']']).to_string(),
                };
                (host, u.port_or_known_default().unwrap_or(80))
            }
            None => ("127.0.0.1".to_string(), 0),
        };
        let listener = TcpListener::bind((host.as_str(), port))
            .await
            .map_err(|e| Error::Call {
                scheme,
                step: "listen on the callback URL",
                message: format!("cannot listen on {host}:{port}: {e}"),
                source: Box::new(e),
            })?;
        let redirect_uri = match url {
            Some(u) => u.clone(),
            None => {
                let addr = listener
                    .local_addr()
                    .map_err(|e| Error::call(scheme, "listen on the callback URL", e))?;
                reqwest::Url::parse(&format!("http://{addr}{default_path}")).map_err(|e| {
                    Error::Protocol {
                        scheme,
                        step: "listen on the callback URL",
                        message: e.to_string(),
                    }
                })?
            }
        };
        Ok(Self {
            scheme,
            listener,
            redirect_uri,
        })
    }

    /// The redirect URI to register and send in the authorize request.
    pub(crate) fn redirect_uri(&self) -> &reqwest::Url {
        &self.redirect_uri
    }

    /// Serves the callback until a request with the right path and `state` arrives, at most
    /// `timeout`; returns its `code`. An `error` answer (consent denied) is `Rejected`.
    pub(crate) async fn code(&self, state: &str, timeout: Duration) -> Result<String> {
        tokio::time::timeout(timeout, self.serve(state))
            .await
            .map_err(|_| Error::Rejected {
                scheme: self.scheme,
                step: STEP,
                message: format!("no sign-in within {timeout:?}"),
            })?
    }

    async fn serve(&self, state: &str) -> Result<String> {
        let scheme = self.scheme;
        loop {
            let (mut conn, _) = self
                .listener
                .accept()
                .await
                .map_err(|e| Error::call(scheme, STEP, e))?;
            let mut buf = vec![0u8; 16 * 1024];
            let mut len = 0;
            while len < buf.len() {
                let n = match conn.read(&mut buf[len..]).await {
                    Ok(n) => n,
                    Err(_) => break,
                };
                len += n;
                if n == 0 || buf[..len].windows(4).any(|w| w == b"\r\n\r\n") {
                    break;
                }
            }
            let head = String::from_utf8_lossy(&buf[..len]);
            let target = head
                .lines()
                .next()
                .and_then(|l| l.split_whitespace().nth(1))
                .unwrap_or("/");
            let Ok(url) = reqwest::Url::parse(&format!("http://callback{target}")) else {
                continue;
            };
            if url.path() != self.redirect_uri.path() {
                let _ = conn
                    .write_all(
                        b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                    )
                    .await;
                continue;
            }
            let q: HashMap<String, String> = url.query_pairs().into_owned().collect();
            let (status, page, outcome) = if q.get("state").map(String::as_str) != Some(state) {
                (
                    "400 Bad Request",
                    "Sign-in answer with an unexpected state.",
                    None,
                )
            } else if let Some(err) = q.get("error") {
                let desc = q
                    .get("error_description")
                    .map(String::as_str)
                    .unwrap_or_default();
                let desc = desc.lines().next().unwrap_or_default();
                (
                    "200 OK",
                    "Sign-in failed; you can close this window.",
                    Some(Err(Error::Rejected {
                        scheme,
                        step: STEP,
                        message: format!("{err}: {desc}"),
                    })),
                )
            } else if let Some(code) = q.get("code") {
                (
                    "200 OK",
                    "Signed in; you can close this window.",
                    Some(Ok(code.clone())),
                )
            } else {
                ("400 Bad Request", "Sign-in answer without a code.", None)
            };
            let reply = format!(
                "HTTP/1.1 {status}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{page}",
                page.len()
            );
            let _ = conn.write_all(reply.as_bytes()).await;
            if let Some(outcome) = outcome {
                return outcome;
            }
        }
    }
}

/// A PKCE pair: a random verifier (64 characters of `[0-9a-f]`, within RFC 7636's 43..=128)
/// and its S256 challenge.
pub(crate) fn pkce() -> (datafusion_athena_config::Secret, String) {
    use base64::Engine;
    use sha2::Digest;
    let verifier = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()));
    (datafusion_athena_config::Secret::new(verifier), challenge)
}

/// A random `state` value.
pub(crate) fn state() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_challenge_is_s256_of_the_verifier() {
        use base64::Engine;
        use sha2::Digest;
        let (verifier, challenge) = pkce();
        assert_eq!(verifier.expose().len(), 64);
        let expected = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(sha2::Sha256::digest(verifier.expose().as_bytes()));
        assert_eq!(challenge, expected);
        assert_ne!(pkce().0.expose(), verifier.expose());
    }

    #[tokio::test]
    async fn ignores_wrong_path_and_state_then_takes_the_code() {
        let cb = Callback::listen("Test", None, "/cb").await.unwrap();
        let uri = cb.redirect_uri().clone();
        assert_eq!(uri.path(), "/cb");
        assert_eq!(uri.host_str(), Some("127.0.0.1"));
        let base = format!("http://{}", uri.authority());
        let client = tokio::spawn(async move {
            let http = reqwest::Client::new();
            let a = http
                .get(format!("{base}/other?code=x&state=s1"))
                .send()
                .await;
            let b = http
                .get(format!("{base}/cb?code=x&state=wrong"))
                .send()
                .await;
            let c = http
                .get(format!("{base}/cb?code=the-code&state=s1"))
                .send()
                .await;
            (
                a.unwrap().status().as_u16(),
                b.unwrap().status().as_u16(),
                c.unwrap().status().as_u16(),
            )
        });
        let code = cb.code("s1", Duration::from_secs(10)).await.unwrap();
        assert_eq!(code, "the-code");
        assert_eq!(client.await.unwrap(), (404, 400, 200));
    }

    #[tokio::test]
    async fn error_answer_and_timeout_are_refusals() {
        let cb = Callback::listen("Test", None, "/cb").await.unwrap();
        let url = format!(
            "{}?error=access_denied&error_description=User+said+no&state=s",
            cb.redirect_uri()
        );
        tokio::spawn(async move { reqwest::get(url).await });
        let err = cb.code("s", Duration::from_secs(10)).await.unwrap_err();
        assert_eq!(
            err.to_string(),
            "Test: wait for the sign-in callback: refused: access_denied: User said no"
        );
        let err = cb.code("s", Duration::from_millis(50)).await.unwrap_err();
        assert!(
            err.to_string().ends_with("refused: no sign-in within 50ms"),
            "{err}"
        );
    }
}
