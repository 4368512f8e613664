//! The CA certificates a client trusts beside the system's: PEM given in code, and a bundle
//! file. A bundle file is read and parsed once per version of the file and shared by every
//! client that names it. A client made per request (the bindings' per-request pattern) would
//! otherwise read, parse and keep a copy of its own of a file that is often the whole system
//! store (`NODE_EXTRA_CA_CERTS` pointing at `ca-certificates.crt`): 0.8 ms and 400 KB per
//! client, which a garbage-collected wrapper keeps until a full collection.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::SystemTime;

use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::CertificateDer;

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

/// Which file a bundle was read from, and which version of it. On Unix the file is its device
/// and inode (two paths to one file are one entry, and a relative path means the file it
/// names now), and its version includes the change time, which no `touch`, `tar` or `cp -p`
/// sets: a rewrite of the same size with the same modification time, a file renamed over it
/// (as `update-ca-certificates` and editors do), or one made unreadable is read again.
#[derive(Clone, PartialEq, Eq, Hash)]
struct FileId(u64, u64, Option<PathBuf>);

type Version = (SystemTime, SystemTime, u64);

fn identify(path: &Path, metadata: &std::fs::Metadata) -> (FileId, Version) {
    let modified = metadata.modified().unwrap_or(SystemTime::UNIX_EPOCH);
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let changed = SystemTime::UNIX_EPOCH
            + std::time::Duration::new(
                u64::try_from(metadata.ctime()).unwrap_or(0),
                u32::try_from(metadata.ctime_nsec()).unwrap_or(0),
            );
        let _ = path;
        (
            FileId(metadata.dev(), metadata.ino(), None),
            (modified, changed, metadata.len()),
        )
    }
    #[cfg(not(unix))]
    {
        let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
        (
            FileId(0, 0, Some(absolute)),
            (modified, modified, metadata.len()),
        )
    }
}

/// Bundles read so far, by file, with the version each was read from. Weak: a bundle no
/// client or pool holds any more is dropped, and its entry with the next insertion.
type Bundles = HashMap<FileId, (Version, Weak<CaBundle>)>;

static BUNDLES: Mutex<Option<Bundles>> = Mutex::new(None);

/// The bundle at `path`: read and parsed the first time, and again when the file changes.
pub(crate) fn bundle(path: &Path) -> Result<Arc<CaBundle>, Error> {
    let cannot_read = |e: std::io::Error| {
        let shown = path.display();
        Error::invalid_config(format!("cannot read the CA bundle {shown}: {e}"))
    };
    // Identified and read through one open handle: what is read is the version identified.
    let mut file = std::fs::File::open(path).map_err(cannot_read)?;
    let (id, version) = identify(path, &file.metadata().map_err(cannot_read)?);
    let known = |bundles: &mut Option<Bundles>| {
        let (read, bundle) = bundles.as_ref()?.get(&id)?;
        (*read == version).then(|| bundle.upgrade())?
    };
    if let Some(bundle) = known(&mut lock()) {
        return Ok(bundle);
    }
    // Read and parsed without the lock: a slow file delays only the clients that name it.
    let mut pem = Vec::new();
    std::io::Read::read_to_end(&mut file, &mut pem).map_err(cannot_read)?;
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
    let mut bundles = lock();
    // Another client may have read it meanwhile: one copy is kept and shared.
    if let Some(first) = known(&mut bundles) {
        return Ok(first);
    }
    let bundles = bundles.get_or_insert_with(HashMap::new);
    bundles.retain(|_, (_, bundle)| bundle.strong_count() > 0);
    bundles.insert(id, (version, Arc::downgrade(&bundle)));
    Ok(bundle)
}

fn lock() -> std::sync::MutexGuard<'static, Option<Bundles>> {
    BUNDLES.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The certificates of PEM blobs given in code (`ClientBuilder::add_root_certificate`).
pub(crate) fn given_certificates(pems: &[Vec<u8>]) -> Result<Vec<reqwest::Certificate>, Error> {
    let mut all = Vec::new();
    for (position, pem) in pems.iter().enumerate() {
        all.extend(pem_certificates(pem).map_err(|reason| {
            // Several given (Node's `ca` array, add_root_certificate called again): which one.
            let which = match pems.len() {
                1 => "a root certificate".to_owned(),
                count => format!("root certificate {} of {count} given", position + 1),
            };
            Error::invalid_config(format!("{which} is not usable: {reason}"))
        })?);
    }
    Ok(all)
}

/// The certificates of a PEM blob, each checked as the TLS stack will use it: a certificate
/// rustls cannot take as a trust anchor would otherwise fail the client's construction with
/// only "builder error", naming neither the file nor the certificate.
fn pem_certificates(pem: &[u8]) -> Result<Vec<reqwest::Certificate>, String> {
    let ders = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| {
            let detail = match error {
                pem::Error::MissingSectionEnd { .. } => ": a block has no END line",
                pem::Error::Base64Decode(_) => ": a block's base64 is broken",
                _ => "",
            };
            format!("it is not PEM-encoded X.509{detail}")
        })?;
    if ders.is_empty() {
        return Err("it holds no \"BEGIN CERTIFICATE\" block".to_owned());
    }
    let count = ders.len();
    let mut certificates = Vec::with_capacity(count);
    for (position, der) in ders.into_iter().enumerate() {
        let unusable = |problem: String| {
            let position = position + 1;
            format!(
                "its certificate {position} of {count} cannot be trusted as a CA: {problem}; \
                 issue it again, or leave it out"
            )
        };
        // Checked on a borrowed view: the one copy of the DER is reqwest's.
        rustls::RootCertStore::empty()
            .add(CertificateDer::from(der.as_ref()))
            .map_err(|error| unusable(anchor_problem(&error)))?;
        certificates.push(
            reqwest::Certificate::from_der(&der).map_err(|error| unusable(error.to_string()))?,
        );
    }
    Ok(certificates)
}

/// Why rustls refuses a certificate as a trust anchor, in words.
fn anchor_problem(error: &rustls::Error) -> String {
    use rustls::CertificateError;
    match error {
        rustls::Error::InvalidCertificate(CertificateError::BadEncoding) => {
            "it is not a well-formed X.509 certificate".to_owned()
        }
        // webpki's error, which rustls passes on as text only; webpki 0.103 gives it for an
        // extension listed twice.
        rustls::Error::InvalidCertificate(CertificateError::Other(other))
            if other.to_string() == "ExtensionValueInvalid" =>
        {
            "it lists an extension twice, which X.509 (RFC 5280) forbids and rustls refuses \
             (webpki: ExtensionValueInvalid; OpenSSL 1.1 makes a CA with two basicConstraints \
             when `openssl req -x509 -addext basicConstraints=...` adds one to its config's)"
                .to_owned()
        }
        rustls::Error::InvalidCertificate(CertificateError::Other(other)) => {
            format!("rustls refuses it ({other})")
        }
        other => format!("rustls refuses it ({other})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sets `path`'s modification time to `time` (an extracted archive or a pinned image).
    fn pin_modified(path: &Path, time: SystemTime) {
        let file = std::fs::File::options().write(true).open(path).unwrap();
        file.set_modified(time).unwrap();
    }

    #[test]
    fn a_bundle_is_read_once_per_version_of_its_file_and_shared() {
        let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        let pem = certified.cert.pem();
        let dir = std::env::temp_dir().join(format!("vectorcache-trust-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("bundle.pem");
        std::fs::write(&path, &pem).unwrap();
        let first = bundle(&path).unwrap();
        // The same read, not a copy: a client made per request holds no bundle of its own;
        // another path to the same file is the same file.
        assert!(Arc::ptr_eq(&first, &bundle(&path).unwrap()));
        #[cfg(unix)]
        {
            let link = dir.join("link.pem");
            std::os::unix::fs::symlink(&path, &link).unwrap();
            assert!(Arc::ptr_eq(&first, &bundle(&link).unwrap()));
        }
        assert_eq!(first.certificates().len(), 1);

        // Rewritten in place with the same size and a pinned modification time: read again.
        let pinned = std::fs::metadata(&path).unwrap().modified().unwrap();
        let same_size = |tag: &str| format!("{pem}# {tag}\n");
        std::fs::write(&path, same_size("a")).unwrap();
        pin_modified(&path, pinned);
        let rewritten = bundle(&path).unwrap();
        assert!(!Arc::ptr_eq(&first, &rewritten));
        assert!(SharedBundle(first.clone()) != SharedBundle(rewritten.clone()));

        // Replaced by a file renamed over it, same size and time: another file, read again.
        let twin = dir.join("twin.pem");
        std::fs::write(&twin, same_size("b")).unwrap();
        pin_modified(&twin, pinned);
        std::fs::rename(&twin, &path).unwrap();
        let replaced = bundle(&path).unwrap();
        assert!(!Arc::ptr_eq(&rewritten, &replaced));
        assert!(SharedBundle(rewritten) != SharedBundle(replaced));

        // Two reads of the same content are one pool's key.
        std::fs::write(&twin, &pem).unwrap();
        let copy = bundle(&twin).unwrap();
        assert!(!Arc::ptr_eq(&first, &copy));
        assert!(SharedBundle(first) == SharedBundle(copy));

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
