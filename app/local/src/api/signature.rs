//! Signature Version 4 on `POST /orders`: what API Gateway checks when the
//! method's authorization is `AWS_IAM`, done here with the AWS SDK's own
//! signer (`aws-sigv4`), so the local API refuses what the deployed one does.
//!
//! The caller's `Authorization` header names the key, the scope and the
//! headers it signed; the canonical request is rebuilt from exactly those
//! headers, the request's path and query and the SHA-256 of the body, signed
//! with the checkout's secret at the request's `X-Amz-Date`, and compared in
//! constant time. A request more than [`WINDOW`] from the clock is refused:
//! AWS's answer to that is "Signature expired: … (… - 5 min.)" (AWS
//! re:Post, "lambda-sdk-signature" and "api-gateway-iam-sigv4-mismatch").
//! Within the window a replay is accepted, as on AWS; the `Idempotency-Key`
//! keeps it one order.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4::SigningParams;
use axum::http::HeaderMap;
use chrono::{DateTime, NaiveDateTime, Utc};
use rand::Rng;
use rand::distr::Alphanumeric;
use subtle::ConstantTimeEq;

/// The service name a caller signs for, as API Gateway's `execute-api`.
pub const SERVICE: &str = "execute-api";
/// The region the local API plays.
pub const REGION: &str = "us-east-1";
/// How far a request's `X-Amz-Date` may be from the clock.
pub const WINDOW: Duration = Duration::from_secs(5 * 60);

pub const ACCESS_KEY_ID_VAR: &str = "CHECKOUT_ACCESS_KEY_ID";
pub const SECRET_ACCESS_KEY_VAR: &str = "CHECKOUT_SECRET_ACCESS_KEY";

const ALGORITHM: &str = "AWS4-HMAC-SHA256";
const DATE_FORMAT: &str = "%Y%m%dT%H%M%SZ";

/// The checkout backend's key: the one caller allowed to place orders.
#[derive(Clone)]
pub struct CheckoutKey {
    pub access_key_id: String,
    secret_access_key: String,
}

impl std::fmt::Debug for CheckoutKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckoutKey")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

impl CheckoutKey {
    pub fn new(access_key_id: impl Into<String>, secret_access_key: impl Into<String>) -> Self {
        Self {
            access_key_id: access_key_id.into(),
            secret_access_key: secret_access_key.into(),
        }
    }

    /// A fresh key in AWS's shape (20-character id, 40-character secret).
    pub fn generate() -> Self {
        let random = |length: usize| -> String {
            rand::rng()
                .sample_iter(Alphanumeric)
                .take(length)
                .map(char::from)
                .collect()
        };
        Self::new(
            format!("AKIALOCAL{}", random(11).to_ascii_uppercase()),
            random(40),
        )
    }

    /// `CHECKOUT_ACCESS_KEY_ID` and `CHECKOUT_SECRET_ACCESS_KEY`: both, or
    /// neither (`None`).
    pub fn from_env() -> anyhow::Result<Option<Self>> {
        let read = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
        match (read(ACCESS_KEY_ID_VAR), read(SECRET_ACCESS_KEY_VAR)) {
            (Some(id), Some(secret)) => Ok(Some(Self::new(id, secret))),
            (None, None) => Ok(None),
            _ => anyhow::bail!(
                "set both {ACCESS_KEY_ID_VAR} and {SECRET_ACCESS_KEY_VAR}, or neither (cargo run then makes a key)"
            ),
        }
    }

    pub fn secret_access_key(&self) -> &str {
        &self.secret_access_key
    }

    fn credentials(&self) -> Credentials {
        Credentials::new(
            &self.access_key_id,
            &self.secret_access_key,
            None,
            None,
            "checkout",
        )
    }

    /// The signature of a request signed with this key at `time`, over the
    /// `headers` given (which must hold `host`), as a caller computes it.
    fn signature(
        &self,
        method: &str,
        uri: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        time: SystemTime,
        excluded: Option<Vec<std::borrow::Cow<'static, str>>>,
    ) -> Result<(String, Vec<(String, String)>), aws_sigv4::http_request::SigningError> {
        let identity: aws_smithy_runtime_api::client::identity::Identity =
            self.credentials().into();
        let mut settings = SigningSettings::default();
        if let Some(excluded) = excluded {
            settings.excluded_headers = Some(excluded);
        }
        let params: aws_sigv4::http_request::SigningParams<'_> = SigningParams::builder()
            .identity(&identity)
            .region(REGION)
            .name(SERVICE)
            .time(time)
            .settings(settings)
            .build()
            .expect("every signing parameter is set")
            .into();
        let request = SignableRequest::new(
            method,
            uri,
            headers.iter().copied(),
            SignableBody::Bytes(body),
        )?;
        let output = sign(request, &params)?;
        let signature = output.signature().to_owned();
        let (instructions, _) = output.into_parts();
        let added = instructions
            .headers()
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect();
        Ok((signature, added))
    }
}

/// Signs `request` for the order API as the checkout backend does: every
/// header it carries (and `host`), the body, at `time`. For the tests, the
/// demo and the benchmarks; the README shows `curl --aws-sigv4` doing the same.
pub fn sign_request(request: &mut reqwest::Request, key: &CheckoutKey, time: SystemTime) {
    let url = request.url().clone();
    let body = request
        .body()
        .and_then(reqwest::Body::as_bytes)
        .unwrap_or_default()
        .to_vec();
    let headers: Vec<(String, String)> = request
        .headers()
        .iter()
        .filter_map(|(name, value)| {
            Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
        })
        .collect();
    let borrowed: Vec<(&str, &str)> = headers
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    let (_, added) = key
        .signature(
            request.method().as_str(),
            url.as_str(),
            &borrowed,
            &body,
            time,
            None,
        )
        .expect("a request with a URL can be signed");
    for (name, value) in added {
        request.headers_mut().insert(
            reqwest::header::HeaderName::from_bytes(name.as_bytes()).expect("a header name"),
            reqwest::header::HeaderValue::from_str(&value).expect("a header value"),
        );
    }
}

/// Why a request was refused; each answers 403, with API Gateway's body
/// where the template sets it (`infra/template.yaml`, gateway responses).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No `Authorization` header (MISSING_AUTHENTICATION_TOKEN).
    Unsigned,
    /// Signed with a key that is not the checkout's.
    UnknownKey,
    /// Malformed, for another scope, or not matching (INVALID_SIGNATURE).
    BadSignature,
    /// `X-Amz-Date` further than [`WINDOW`] from the clock (INVALID_SIGNATURE).
    Expired,
}

pub const UNSIGNED: &str = "Not found, or not signed: orders go to POST /orders, signed with AWS Signature Version 4 (service execute-api) with the checkout's key.";
pub const BAD_SIGNATURE: &str = "The order request's signature does not match, or it was signed more than 5 minutes ago: sign POST /orders with AWS Signature Version 4 (service execute-api) with the checkout's key, and send it at once.";
/// AWS's own answer to an unknown access key (no gateway response type of
/// its own to override).
pub const UNKNOWN_KEY: &str = "The security token included in the request is invalid.";

impl Refusal {
    pub fn message(self) -> &'static str {
        match self {
            Refusal::Unsigned => UNSIGNED,
            Refusal::UnknownKey => UNKNOWN_KEY,
            Refusal::BadSignature | Refusal::Expired => BAD_SIGNATURE,
        }
    }
}

/// The parts of an `Authorization: AWS4-HMAC-SHA256 …` header.
struct Authorization<'a> {
    access_key_id: &'a str,
    scope_date: &'a str,
    region: &'a str,
    service: &'a str,
    terminator: &'a str,
    signed_headers: Vec<&'a str>,
    signature: &'a str,
}

fn parse_authorization(value: &str) -> Option<Authorization<'_>> {
    let rest = value.strip_prefix(ALGORITHM)?.strip_prefix(' ')?;
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let (name, value) = part.trim().split_once('=')?;
        let slot = match name {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed,
            "Signature" => &mut signature,
            _ => return None,
        };
        if slot.replace(value).is_some() {
            return None;
        }
    }
    let mut scope = credential?.split('/');
    let parsed = Authorization {
        access_key_id: scope.next()?,
        scope_date: scope.next()?,
        region: scope.next()?,
        service: scope.next()?,
        terminator: scope.next()?,
        signed_headers: signed?.split(';').collect(),
        signature: signature?,
    };
    scope.next().is_none().then_some(parsed)
}

/// Checks a request's signature against the checkout's key at `now`.
pub fn verify(
    key: &CheckoutKey,
    method: &str,
    path_and_query: &str,
    headers: &HeaderMap,
    body: &[u8],
    now: SystemTime,
) -> Result<(), Refusal> {
    let mut authorizations = headers.get_all(axum::http::header::AUTHORIZATION).iter();
    let Some(value) = authorizations.next() else {
        return Err(Refusal::Unsigned);
    };
    if authorizations.next().is_some() {
        return Err(Refusal::BadSignature);
    }
    let value = value.to_str().map_err(|_| Refusal::BadSignature)?;
    let authorization = parse_authorization(value).ok_or(Refusal::BadSignature)?;
    if authorization.access_key_id != key.access_key_id {
        return Err(Refusal::UnknownKey);
    }
    let date = single_header(headers, "x-amz-date").ok_or(Refusal::BadSignature)?;
    let signed_at = NaiveDateTime::parse_from_str(date, DATE_FORMAT)
        .map_err(|_| Refusal::BadSignature)?
        .and_utc();
    if authorization.scope_date != &date[..8]
        || authorization.region != REGION
        || authorization.service != SERVICE
        || authorization.terminator != "aws4_request"
        || !authorization.signed_headers.contains(&"host")
        || !authorization.signed_headers.contains(&"x-amz-date")
    {
        return Err(Refusal::BadSignature);
    }
    let now: DateTime<Utc> = now.into();
    if (now - signed_at).abs() > chrono::Duration::from_std(WINDOW).expect("a small duration") {
        return Err(Refusal::Expired);
    }
    let mut signed: Vec<(&str, &str)> = Vec::new();
    for name in &authorization.signed_headers {
        if *name == "x-amz-date" {
            continue;
        }
        let mut values = headers.get_all(*name).iter().peekable();
        if values.peek().is_none() {
            return Err(Refusal::BadSignature);
        }
        for value in values {
            signed.push((name, value.to_str().map_err(|_| Refusal::BadSignature)?));
        }
    }
    let (expected, _) = key
        .signature(
            method,
            path_and_query,
            &signed,
            body,
            signed_at.into(),
            Some(Vec::new()),
        )
        .map_err(|_| Refusal::BadSignature)?;
    if bool::from(
        expected
            .as_bytes()
            .ct_eq(authorization.signature.as_bytes()),
    ) {
        Ok(())
    } else {
        Err(Refusal::BadSignature)
    }
}

fn single_header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    let mut values = headers.get_all(name).iter();
    let value = values.next()?.to_str().ok()?;
    values.next().is_none().then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signed(key: &CheckoutKey, body: &str, time: SystemTime) -> reqwest::Request {
        let mut request = reqwest::Client::new()
            .post("http://127.0.0.1:3000/orders")
            .header("content-type", "application/json")
            .header("idempotency-key", "checkout-0001")
            .body(body.to_owned())
            .build()
            .unwrap();
        sign_request(&mut request, key, time);
        request
    }

    fn check(request: &reqwest::Request, key: &CheckoutKey, body: &str) -> Result<(), Refusal> {
        let mut headers = request.headers().clone();
        headers.insert("host", "127.0.0.1:3000".parse().unwrap());
        verify(
            key,
            "POST",
            "/orders",
            &headers,
            body.as_bytes(),
            SystemTime::now(),
        )
    }

    #[test]
    fn a_request_signed_with_the_key_passes() {
        let key = CheckoutKey::generate();
        let request = signed(&key, "{}", SystemTime::now());
        assert_eq!(check(&request, &key, "{}"), Ok(()));
    }

    #[test]
    fn a_changed_body_another_key_or_an_old_date_is_refused() {
        let key = CheckoutKey::generate();
        let request = signed(&key, "{}", SystemTime::now());
        assert_eq!(check(&request, &key, "{ }"), Err(Refusal::BadSignature));
        let other = CheckoutKey::new(key.access_key_id.clone(), "another secret");
        assert_eq!(check(&request, &other, "{}"), Err(Refusal::BadSignature));
        assert_eq!(
            check(&request, &CheckoutKey::generate(), "{}"),
            Err(Refusal::UnknownKey)
        );
        let old = signed(
            &key,
            "{}",
            SystemTime::now() - WINDOW - Duration::from_secs(1),
        );
        assert_eq!(check(&old, &key, "{}"), Err(Refusal::Expired));
        let ahead = signed(
            &key,
            "{}",
            SystemTime::now() + WINDOW + Duration::from_secs(5),
        );
        assert_eq!(check(&ahead, &key, "{}"), Err(Refusal::Expired));
    }

    #[test]
    fn malformed_authorization_headers_are_refused_not_panicked_on() {
        for value in [
            "",
            "AWS4-HMAC-SHA256",
            "AWS4-HMAC-SHA256 Credential=",
            "AWS4-HMAC-SHA256 Credential=a/b/c/d/e/f, SignedHeaders=host, Signature=00",
            "AWS4-HMAC-SHA256 Credential=a/b/c/d/e, Credential=a/b/c/d/e, SignedHeaders=host, Signature=00",
            "Basic dXNlcjpwYXNz",
            "AWS4-HMAC-SHA256 Credential=a/b/c/d/e SignedHeaders=host Signature=00",
        ] {
            assert!(parse_authorization(value).is_none(), "{value:?}");
        }
        let key = CheckoutKey::generate();
        let mut request = signed(&key, "{}", SystemTime::now());
        request
            .headers_mut()
            .insert("x-amz-date", "2026-12-04T00:00:00Z".parse().unwrap());
        assert_eq!(check(&request, &key, "{}"), Err(Refusal::BadSignature));
        let mut unsigned = signed(&key, "{}", SystemTime::now());
        unsigned.headers_mut().remove("authorization");
        assert_eq!(check(&unsigned, &key, "{}"), Err(Refusal::Unsigned));
    }
}
