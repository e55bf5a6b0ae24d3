//! Cognito's variant of SRP-6a (USER_SRP_AUTH / PASSWORD_VERIFIER): the password never leaves
//! the machine; the client proves it knows it with an HMAC over the server's secret block.

use std::time::SystemTime;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use num_bigint::BigUint;
use sha2::{Digest, Sha256};

/// RFC 5054's 3072-bit group, which Cognito uses (g = 2).
const N_HEX: &str = "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7EDEE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3BE39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E208E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF";

fn n() -> BigUint {
    BigUint::parse_bytes(N_HEX.as_bytes(), 16).unwrap_or_default()
}

/// Hex of a number as Cognito pads it: even length, and a leading `00` when the high bit is set
/// (so the bytes read as a positive number).
fn pad_hex_str(hex: &str) -> String {
    if hex.len() % 2 == 1 {
        format!("0{hex}")
    } else if hex.starts_with([
        '8', '9', 'a', 'b', 'c', 'd', 'e', 'f', 'A', 'B', 'C', 'D', 'E', 'F',
    ]) {
        format!("00{hex}")
    } else {
        hex.to_string()
    }
}

fn pad_hex(n: &BigUint) -> String {
    pad_hex_str(&n.to_str_radix(16))
}

fn hex_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len() / 2)
        .filter_map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok())
        .collect()
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn hash_hex_to_int(hex: &str) -> BigUint {
    BigUint::parse_bytes(sha256_hex(&hex_bytes(hex)).as_bytes(), 16).unwrap_or_default()
}

fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    // HMAC accepts keys of any length.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().to_vec()
}

/// The client side of one SRP exchange.
pub(crate) struct SrpClient {
    a: BigUint,
    big_a: BigUint,
}

impl std::fmt::Debug for SrpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SrpClient")
    }
}

impl SrpClient {
    /// A client with the private value `a` (128 random bytes in production).
    pub(crate) fn new(a_bytes: &[u8]) -> Self {
        let n = n();
        let a = BigUint::from_bytes_be(a_bytes) % &n;
        let big_a = BigUint::from(2u32).modpow(&a, &n);
        Self { a, big_a }
    }

    /// A fresh client with a random private value.
    pub(crate) fn random() -> Self {
        let bytes: Vec<u8> = (0..8)
            .flat_map(|_| uuid::Uuid::new_v4().into_bytes())
            .collect();
        Self::new(&bytes)
    }

    /// `SRP_A`.
    pub(crate) fn srp_a(&self) -> String {
        self.big_a.to_str_radix(16)
    }

    /// The 16-byte password authentication key for the server's `SRP_B` and `SALT`.
    /// `pool_name` is the part of the pool id after the `_`.
    pub(crate) fn key(
        &self,
        pool_name: &str,
        user_id: &str,
        password: &str,
        srp_b: &str,
        salt: &str,
    ) -> Option<Vec<u8>> {
        let n = n();
        let g = BigUint::from(2u32);
        let b = BigUint::parse_bytes(srp_b.as_bytes(), 16)?;
        if (&b % &n) == BigUint::default() {
            return None;
        }
        let k = hash_hex_to_int(&format!("00{N_HEX}02"));
        let u = hash_hex_to_int(&format!("{}{}", pad_hex(&self.big_a), pad_hex(&b)));
        if u == BigUint::default() {
            return None;
        }
        let user_hash = sha256_hex(format!("{pool_name}{user_id}:{password}").as_bytes());
        let x = hash_hex_to_int(&format!("{}{user_hash}", pad_hex_str(salt)));
        let kgx = (k * g.modpow(&x, &n)) % &n;
        let base = ((&b % &n) + &n - kgx) % &n;
        let s = base.modpow(&(&self.a + &u * &x), &n);
        // HKDF-SHA256, one block: salt = u, ikm = S, info = "Caldera Derived Key".
        let prk = hmac_sha256(&hex_bytes(&pad_hex(&u)), &[&hex_bytes(&pad_hex(&s))]);
        let okm = hmac_sha256(&prk, &[b"Caldera Derived Key", &[1u8]]);
        Some(okm[..16].to_vec())
    }
}

/// `TIMESTAMP` as Cognito wants it: `Mon Dec 1 09:05:03 UTC 2025` (day not zero-padded).
pub(crate) fn timestamp(now: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(now)
        .format("%a %b %-d %H:%M:%S UTC %Y")
        .to_string()
}

/// `PASSWORD_CLAIM_SIGNATURE`.
pub(crate) fn signature(
    key: &[u8],
    pool_name: &str,
    user_id: &str,
    secret_block: &[u8],
    timestamp: &str,
) -> String {
    STANDARD.encode(hmac_sha256(
        key,
        &[
            pool_name.as_bytes(),
            user_id.as_bytes(),
            secret_block,
            timestamp.as_bytes(),
        ],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding_follows_cognito() {
        assert_eq!(pad_hex_str("abc"), "0abc");
        assert_eq!(pad_hex_str("8f"), "008f");
        assert_eq!(pad_hex_str("7f"), "7f");
    }

    #[test]
    fn timestamp_day_is_not_padded() {
        let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_764_147_903);
        assert_eq!(timestamp(t), "Wed Nov 26 09:05:03 UTC 2025");
        let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_764_579_903);
        assert_eq!(timestamp(t), "Mon Dec 1 09:05:03 UTC 2025");
    }
}
