//! The CA certificates a client trusts beside the system's: PEM given in code, and a bundle
//! file. A bundle file is read and parsed once per version of the file and shared by every
//! client that names it. A client made per request (the bindings' per-request pattern) would
//! otherwise read, parse and keep a copy of its own of a file that is often the whole system
//! store (`NODE_EXTRA_CA_CERTS` pointing at `ca-certificates.crt`): 0.8 ms and 400 KB per
//! client, which a garbage-collected wrapper keeps until a full collection.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use crate::error::Error;

/// A CA bundle file's content and its certificates, shared by the clients that name it.
pub(crate) struct CaBundle {
    pem: Vec<u8>,
    /// A hash of `pem`, worked out once: a pool's key hashes this, not the whole file.
    digest: u64,
    certificates: Vec<reqwest::Certificate>,
}

impl CaBundle {
    pub fn certificates(&self) -> &[reqwest::Certificate] {
        &self.certificates
    }
}

/// A bundle as part of a pool's key: the same content is the same key, whichever read of the
/// file it came from.
#[derive(Clone)]
pub(crate) struct SharedBundle(pub Arc<CaBundle>);

impl PartialEq for SharedBundle {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.0.pem == other.0.pem
    }
}

impl Eq for SharedBundle {}

impl Hash for SharedBundle {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.digest.hash(state);
    }
}

/// The version of a file a bundle was read from: a file rewritten is read again.
type Version = (SystemTime, u64);

/// Bundles read so far, by path, with the version of the file each was read from.
type Bundles = HashMap<PathBuf, (Version, Arc<CaBundle>)>;

static BUNDLES: Mutex<Option<Bundles>> = Mutex::new(None);

/// The bundle at `path`: read and parsed the first time, and again when the file changes.
pub(crate) fn bundle(path: &Path) -> Result<Arc<CaBundle>, Error> {
    let cannot_read = |e: std::io::Error| {
        let shown = path.display();
        Error::invalid_config(format!("cannot read the CA bundle {shown}: {e}"))
    };
    let metadata = std::fs::metadata(path).map_err(cannot_read)?;
    let version = (
        metadata.modified().unwrap_or(SystemTime::UNIX_EPOCH),
        metadata.len(),
    );
    let mut bundles = BUNDLES.lock().unwrap_or_else(PoisonError::into_inner);
    let bundles = bundles.get_or_insert_with(HashMap::new);
    if let Some((read, bundle)) = bundles.get(path) {
        if *read == version {
            return Ok(bundle.clone());
        }
    }
    let pem = std::fs::read(path).map_err(cannot_read)?;
    let certificates = pem_certificates(&pem).map_err(|reason| {
        let shown = path.display();
        Error::invalid_config(format!("the CA bundle {shown} is not usable: {reason}"))
    })?;
    let mut hasher = DefaultHasher::new();
    pem.hash(&mut hasher);
    let bundle = Arc::new(CaBundle {
        digest: hasher.finish(),
        pem,
        certificates,
    });
    bundles.insert(path.to_owned(), (version, bundle.clone()));
    Ok(bundle)
}

/// The certificates of PEM blobs given in code (`ClientBuilder::add_root_certificate`).
pub(crate) fn given_certificates(pems: &[Vec<u8>]) -> Result<Vec<reqwest::Certificate>, Error> {
    let mut all = Vec::new();
    for pem in pems {
        all.extend(pem_certificates(pem).map_err(|reason| {
            Error::invalid_config(format!("a root certificate is not usable: {reason}"))
        })?);
    }
    Ok(all)
}

fn pem_certificates(pem: &[u8]) -> Result<Vec<reqwest::Certificate>, String> {
    let certificates = reqwest::Certificate::from_pem_bundle(pem)
        .map_err(|_| "it is not PEM-encoded X.509".to_owned())?;
    if certificates.is_empty() {
        return Err("it holds no \"BEGIN CERTIFICATE\" block".to_owned());
    }
    Ok(certificates)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bundle_is_read_once_per_version_of_its_file_and_shared() {
        let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        let pem = certified.cert.pem();
        let dir = std::env::temp_dir().join(format!("vectorcache-trust-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("bundle.pem");
        std::fs::write(&path, &pem).unwrap();
        let first = bundle(&path).unwrap();
        let again = bundle(&path).unwrap();
        // The same read, not a copy: a client made per request holds no bundle of its own.
        assert!(Arc::ptr_eq(&first, &again));
        assert_eq!(first.certificates().len(), 1);
        assert!(SharedBundle(first.clone()) == SharedBundle(again));

        // Rewritten (two certificates now): read again, and a different key.
        std::fs::write(&path, format!("{pem}{pem}")).unwrap();
        let rewritten = bundle(&path).unwrap();
        assert!(!Arc::ptr_eq(&first, &rewritten));
        assert_eq!(rewritten.certificates().len(), 2);
        assert!(SharedBundle(first) != SharedBundle(rewritten));

        // Gone, or not PEM: the caller's configuration error, naming the file.
        std::fs::write(&path, "not a certificate").unwrap();
        let error = bundle(&path).err().unwrap().to_string();
        assert!(
            error.contains("is not usable") && error.contains("bundle.pem"),
            "{error}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
        let error = bundle(&path).err().unwrap().to_string();
        assert!(error.contains("cannot read the CA bundle"), "{error}");
    }
}
