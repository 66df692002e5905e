//! The vault's unit tests.

use super::*;

fn bound<'a>(user: &'a str, provider: Provider, key_id: &'a str) -> KeyBinding<'a> {
    KeyBinding {
        user,
        provider,
        key_id,
        base_url: None,
        model: None,
    }
}

#[test]
fn a_sealed_key_opens_only_for_its_whole_binding() {
    let vault = Vault::from_bytes(&[7u8; 32]).unwrap();
    let key = ApiKey::new("sk-proj-secret-0123456789abcdefghijklmnop");
    let alice = KeyBinding {
        base_url: Some("https://proxy.example/v1"),
        model: Some("gpt-4o"),
        ..bound("alice", Provider::OpenAi, "k1")
    };
    let sealed = vault.seal(&alice, &key);
    assert!(
        !sealed.windows(10).any(|w| w == b"secret-012"),
        "no plaintext in the ciphertext"
    );
    assert_eq!(vault.open_key(&alice, &sealed).unwrap(), key);
    for other in [
        KeyBinding {
            user: "bob",
            ..alice
        },
        KeyBinding {
            provider: Provider::Groq,
            ..alice
        },
        KeyBinding {
            key_id: "k2",
            ..alice
        },
        KeyBinding {
            base_url: Some("http://127.0.0.1:9/attacker"),
            ..alice
        },
        KeyBinding {
            base_url: None,
            ..alice
        },
        KeyBinding {
            model: Some("o1"),
            ..alice
        },
    ] {
        assert!(vault.open_key(&other, &sealed).is_err(), "{other:?}");
    }
    let other = Vault::from_bytes(&[8u8; 32]).unwrap();
    assert!(other.open_key(&alice, &sealed).is_err());
    assert!(vault.open_key(&alice, &sealed[..10]).is_err());
    // Nor as a key of the old seal version.
    assert!(vault
        .open_legacy_key("alice", Provider::OpenAi, "k1", &sealed)
        .is_err());
}

#[test]
fn fields_cannot_shift_into_each_other() {
    // Under the old NUL-joined associated data, these two bindings were the same bytes.
    let vault = Vault::from_bytes(&[7u8; 32]).unwrap();
    let key = ApiKey::new("gsk_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOP");
    let sealed = vault.seal(&bound("x\0openai", Provider::Groq, "id"), &key);
    assert!(vault
        .open_key(&bound("x", Provider::OpenAi, "groq\0id"), &sealed)
        .is_err());
    assert_eq!(
        legacy_aad("x\0openai", Provider::Groq, "id"),
        legacy_aad("x", Provider::OpenAi, "groq\0id"),
        "the ambiguity this replaces"
    );
    assert_ne!(
        aad(&bound("x\0openai", Provider::Groq, "id")),
        aad(&bound("x", Provider::OpenAi, "groq\0id"))
    );
}

#[test]
fn an_interrupted_rotation_finishes_or_rolls_back_at_start() {
    let dir = std::env::temp_dir().join(format!("byokit-vault-rot-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let old = Vault::open(&dir, MasterKeyHome::File).unwrap();
    let old_check = old.seal_check();
    let new_bytes = Vault::new_master_key();
    let new = Vault::from_bytes(&new_bytes).unwrap();
    // Crashed before the commit: the database still says "old"; the new file is dropped.
    write_new_private(&dir.join("master.key.new"), &new_bytes).unwrap();
    let v = Vault::open_checked(&dir, MasterKeyHome::File, Some(&old_check)).unwrap();
    assert!(v.opens_check(&old_check));
    assert!(!dir.join("master.key.new").exists());
    // Crashed after the commit, before the rename: the database says "new"; finish it.
    write_new_private(&dir.join("master.key.new"), &new_bytes).unwrap();
    let new_check = new.seal_check();
    let v = Vault::open_checked(&dir, MasterKeyHome::File, Some(&new_check)).unwrap();
    assert!(v.opens_check(&new_check));
    assert!(!dir.join("master.key.new").exists());
    assert_eq!(
        std::fs::read(dir.join("master.key")).unwrap(),
        new_bytes.as_slice()
    );
    // A database sealed under a key that is not there: refuse rather than guess.
    assert!(Vault::open_checked(&dir, MasterKeyHome::File, Some(&old_check)).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_master_key_is_created_once_with_mode_0600() {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("byokit-vault-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let key = ApiKey::new("gsk_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOP");
    let sealed = Vault::open(&dir, MasterKeyHome::File)
        .unwrap()
        .seal(&bound("u", Provider::Groq, "k"), &key);
    let mode = std::fs::metadata(dir.join("master.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    // A master key others can read is refused, not used.
    std::fs::set_permissions(
        dir.join("master.key"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let err = Vault::open(&dir, MasterKeyHome::File).err().unwrap();
    assert!(err.to_string().contains("other OS users"), "{err}");
    std::fs::set_permissions(
        dir.join("master.key"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    // A leftover temp file (or a symlink in its place) is replaced, never written through.
    std::fs::write(dir.join("other"), "keep").unwrap();
    std::os::unix::fs::symlink(dir.join("other"), dir.join("new.tmp")).unwrap();
    write_new_private(&dir.join("new.key"), b"secret").unwrap();
    assert_eq!(std::fs::read(dir.join("other")).unwrap(), b"keep");
    assert_eq!(std::fs::read(dir.join("new.key")).unwrap(), b"secret");
    // Reopened, the same master key opens what was sealed.
    assert_eq!(
        Vault::open(&dir, MasterKeyHome::File)
            .unwrap()
            .open_key(&bound("u", Provider::Groq, "k"), &sealed)
            .unwrap(),
        key
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_data_dir_keeps_its_master_key_where_it_was_first_kept() {
    use MasterKeyHome::{File, Keyring};
    let dir = std::env::temp_dir().join(format!("byokit-home-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // A new data dir: as asked.
    assert_eq!(master_key_home(&dir, File).unwrap(), File);
    assert_eq!(master_key_home(&dir, Keyring).unwrap(), Keyring);
    // Marked as keeping it in the keyring: there, whatever is asked.
    std::fs::write(dir.join(KEYRING_MARKER), "").unwrap();
    assert_eq!(master_key_home(&dir, File).unwrap(), Keyring);
    // A master.key file as well: which key is right cannot be told.
    std::fs::write(dir.join("master.key"), [7u8; 32]).unwrap();
    let err = master_key_home(&dir, File).unwrap_err().to_string();
    assert!(err.contains("also holds master.key"), "{err}");
    // The file alone: the file.
    std::fs::remove_file(dir.join(KEYRING_MARKER)).unwrap();
    assert_eq!(master_key_home(&dir, Keyring).unwrap(), File);
    std::fs::remove_dir_all(&dir).unwrap();
}
