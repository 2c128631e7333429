//! The one signature algorithm tokens use, HS256 (HMAC-SHA-256), as
//! `jsonwebtoken`'s crypto provider. Its own providers compile every
//! algorithm in (RSA, ECDSA, EdDSA: about 1 MB of each function that checks
//! a token); this one knows HS256 only, so any other algorithm is refused
//! here too, besides by the pinned validation.

use hmac::{Hmac, KeyInit as _, Mac as _};
use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, JwtVerifier, KeyUtils};
use jsonwebtoken::errors::{Error, ErrorKind};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use sha2::Sha256;
use signature::{Signer, Verifier};

/// HS256 and nothing else; no JWK support (we never read a JWK).
static HS256_ONLY: CryptoProvider = CryptoProvider {
    signer_factory: signer,
    verifier_factory: verifier,
    key_utils: KeyUtils::new_unimplemented(),
};

/// Makes [`HS256_ONLY`] the process's provider (once; later calls find it
/// installed). Every path that signs or checks a token calls it first.
pub(super) fn install() {
    // `Err` only when a provider is installed already: this one, since
    // nothing else in the process installs one.
    let _ = CryptoProvider::install_default(&HS256_ONLY);
}

/// HMAC-SHA-256 keyed with the token secret.
struct Hs256(Hmac<Sha256>);

impl Hs256 {
    fn new(algorithm: &Algorithm, secret: &[u8]) -> Result<Hs256, Error> {
        if *algorithm != Algorithm::HS256 {
            return Err(ErrorKind::InvalidAlgorithm.into());
        }
        Hmac::new_from_slice(secret)
            .map(Hs256)
            .map_err(|_| ErrorKind::InvalidKeyFormat.into())
    }
}

fn signer(algorithm: &Algorithm, key: &EncodingKey) -> Result<Box<dyn JwtSigner>, Error> {
    Ok(Box::new(Hs256::new(algorithm, key.as_bytes())?))
}

fn verifier(algorithm: &Algorithm, key: &DecodingKey) -> Result<Box<dyn JwtVerifier>, Error> {
    Ok(Box::new(Hs256::new(algorithm, key.try_get_as_bytes()?)?))
}

impl Signer<Vec<u8>> for Hs256 {
    fn try_sign(&self, message: &[u8]) -> Result<Vec<u8>, signature::Error> {
        let mut mac = self.0.clone();
        mac.update(message);
        Ok(mac.finalize().into_bytes().to_vec())
    }
}

impl Verifier<Vec<u8>> for Hs256 {
    /// Compares in constant time (`verify_slice`).
    fn verify(&self, message: &[u8], signature: &Vec<u8>) -> Result<(), signature::Error> {
        let mut mac = self.0.clone();
        mac.update(message);
        mac.verify_slice(signature)
            .map_err(signature::Error::from_source)
    }
}

impl JwtSigner for Hs256 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::HS256
    }
}

impl JwtVerifier for Hs256 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::HS256
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4231, test case 2.
    #[test]
    fn signs_as_hmac_sha256_and_refuses_other_algorithms() {
        let mac = Hs256::new(&Algorithm::HS256, b"Jefe").unwrap();
        let signature = mac.try_sign(b"what do ya want for nothing?").unwrap();
        assert_eq!(
            crate::hex::hex(&signature),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert!(
            mac.verify(b"what do ya want for nothing?", &signature)
                .is_ok()
        );
        let mut changed = signature.clone();
        changed[31] ^= 1;
        assert!(
            mac.verify(b"what do ya want for nothing?", &changed)
                .is_err()
        );
        for other in [
            Algorithm::HS384,
            Algorithm::HS512,
            Algorithm::RS256,
            Algorithm::ES256,
        ] {
            assert!(Hs256::new(&other, b"Jefe").is_err(), "{other:?}");
        }
    }
}
