//! "Did you mean …?" suggestions for unknown names.

/// The known names closest to `wanted`, best first, at most `max` of them.
///
/// A name counts as close when it is similar by Jaro-Winkler (≥ 0.8, case-insensitive) or when one
/// name contains the other (`sonnet-4` finds `claude-sonnet-4`).
pub(crate) fn closest<'a>(
    wanted: &str,
    known: impl IntoIterator<Item = &'a str>,
    max: usize,
) -> Vec<String> {
    let wanted = wanted.trim().to_ascii_lowercase();
    if wanted.is_empty() {
        return Vec::new();
    }
    let mut scored: Vec<(f64, &str)> = known
        .into_iter()
        .filter_map(|name| {
            let lower = name.to_ascii_lowercase();
            let mut score = strsim::jaro_winkler(&wanted, &lower);
            if wanted.len() >= 3 && (lower.contains(&wanted) || wanted.contains(&lower)) {
                score = score.max(0.9);
            }
            (score >= 0.8).then_some((score, name))
        })
        .collect();
    // Best score first; ties broken by the shorter, then alphabetically first, name.
    scored.sort_by(|a, b| {
        b.0.total_cmp(&a.0)
            .then(a.1.len().cmp(&b.1.len()))
            .then(a.1.cmp(b.1))
    });
    scored.dedup_by(|a, b| a.1 == b.1);
    scored
        .into_iter()
        .take(max)
        .map(|(_, n)| n.to_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::closest;

    #[test]
    fn finds_typos_and_substrings() {
        let known = ["gpt-4o", "gpt-4o-mini", "o3", "claude-sonnet-4-20250514"];
        assert_eq!(closest("gpt4o", known, 2)[0], "gpt-4o");
        assert_eq!(
            closest("sonnet-4", known, 1),
            vec!["claude-sonnet-4-20250514"]
        );
        assert!(closest("zzzzzz", known, 3).is_empty());
        assert!(closest("", known, 3).is_empty());
    }
}
