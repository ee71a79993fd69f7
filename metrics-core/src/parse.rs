//! Reads samples back out of an exposition, for [`Registry::get_sample_value`](crate::Registry::get_sample_value).
//! Only our own output is read, so this handles exactly what the encoders write.

pub(crate) struct Sample {
    pub(crate) name: String,
    pub(crate) labels: Vec<(String, String)>,
    pub(crate) value: f64,
}

impl Sample {
    pub(crate) fn has_exactly(&self, labels: &[(&str, &str)]) -> bool {
        self.labels.len() == labels.len()
            && labels
                .iter()
                .all(|(n, v)| self.labels.iter().any(|(sn, sv)| sn == n && sv == v))
    }
}

pub(crate) fn samples(text: &str) -> impl Iterator<Item = Sample> + '_ {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(sample)
}

fn sample(line: &str) -> Option<Sample> {
    let name_end = line.find(['{', ' '])?;
    let (name, mut rest) = line.split_at(name_end);
    let mut labels = Vec::new();
    if let Some(after_brace) = rest.strip_prefix('{') {
        rest = after_brace;
        loop {
            if let Some(after_close) = rest.strip_prefix('}') {
                rest = after_close;
                break;
            }
            let (label, after_eq) = rest.split_once("=\"")?;
            let (value, after_value) = unescape_until_quote(after_eq)?;
            labels.push((label.trim_start_matches(',').to_owned(), value));
            rest = after_value;
        }
    }
    let value = rest.trim_start().split(' ').next()?.parse().ok()?;
    Some(Sample {
        name: name.to_owned(),
        labels,
        value,
    })
}

/// The escaped label value up to its closing quote, unescaped, and the text after it.
fn unescape_until_quote(text: &str) -> Option<(String, &str)> {
    let mut value = String::new();
    let mut chars = text.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((value, &text[i + 1..])),
            '\\' => match chars.next()?.1 {
                'n' => value.push('\n'),
                other => value.push(other),
            },
            c => value.push(c),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_labels_and_escapes() {
        let s: Vec<_> = super::samples(
            "# HELP x y\nx_total{a=\"q\\\"\\n\\\\\",b=\"\"} 2.5\nx_created 1.0\n# EOF\n",
        )
        .collect();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].name, "x_total");
        assert_eq!(
            s[0].labels,
            [
                ("a".to_owned(), "q\"\n\\".to_owned()),
                ("b".to_owned(), String::new())
            ]
        );
        assert_eq!(s[0].value, 2.5);
        assert!(s[1].labels.is_empty());
    }
}
