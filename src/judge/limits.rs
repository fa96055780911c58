//! What a capture shows that the judge's model does not reach, and so what its verdict must not
//! claim: Carol with more than one device (digest Q15, issue 11), and the order of the PF's
//! messages from the first chunk of a chunked MSRP message on (Q14). Each found limit is a sentence of
//! [`super::Judgement::not_judged`] and turns a pass or a fail into "inconclusive": the
//! comparison and its deviations are still shown, but the judge does not call them a verdict.

use crate::capture::roles::Roles;
use crate::capture::{CapturedMessage, WireMessage};

/// The limits one capture meets.
#[derive(Debug, Default)]
pub(super) struct Limits {
    /// The distinct `+sip.instance` values (RFC 5626 §4.1) of Carol's Contacts that reached the
    /// PF: in her own requests and responses, and in the REGISTER the 3rd-party REGISTER carries.
    pub devices: Vec<String>,
    /// Frames `(first, last)` of each MSRP message the reader joined from chunks.
    pub chunked: Vec<(u64, u64)>,
}

/// The `+sip.instance` values in `text`, in order.
fn instances(text: &str) -> impl Iterator<Item = &str> {
    text.split("+sip.instance=\"").skip(1).filter_map(|rest| rest.split_once('"').map(|(v, _)| v))
}

/// Reads the limits off the messages to and from the PF.
pub(super) fn of(msgs: &[CapturedMessage], roles: &Roles) -> Limits {
    let mut l = Limits::default();
    let from_focus = |m: &CapturedMessage| roles.cf.is_some_and(|cf| cf.matches(m.src));
    for m in msgs {
        match &m.message {
            WireMessage::Sip(s) if roles.pf.matches(m.dst) && !from_focus(m) => {
                let mut add = |v: &str| {
                    if !l.devices.iter().any(|d| d == v) {
                        l.devices.push(v.to_string());
                    }
                };
                s.header("Contact").into_iter().flat_map(instances).for_each(&mut add);
                instances(&s.body).for_each(&mut add);
            }
            WireMessage::Msrp(_) if m.first_frame < m.frame && (roles.pf.matches(m.src) || roles.pf.matches(m.dst)) => {
                l.chunked.push((m.first_frame, m.frame));
            }
            _ => {}
        }
    }
    l
}

impl Limits {
    /// The sentences for [`super::Judgement::not_judged`], given the deviations' frames.
    pub(super) fn sentences(&self, deviation_frames: &[u64]) -> Vec<String> {
        let mut out = Vec::new();
        if self.devices.len() > 1 {
            out.push(format!(
                "Carol uses {} devices in this capture (+sip.instance {}); the judge's model has one device of hers (digest Q15, policy q15-which-device), so the comparison is shown but is not a verdict",
                self.devices.len(),
                self.devices.join(", ")
            ));
        }
        // Joined at its last chunk, a chunked message reaches the model later than the PF saw its
        // first chunk, so from the first chunk on the model's timing may differ from the PF's.
        let from = self.chunked.iter().map(|(a, _)| *a).min();
        if let Some(from) = from.filter(|a| !deviation_frames.is_empty() && deviation_frames.iter().all(|f| f > a)) {
            out.push(format!(
                "every deviation comes after the first chunk of a chunked MSRP message (frame {from}); the judge compares whole messages at their last chunk (RFC 4975 §7.1.1, digest Q14), so from there on the order of what the PF sent around the chunks is not judged"
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instances_are_read_in_order() {
        let c = r#"<sip:carol@198.51.100.7:5060>;+sip.instance="<urn:gsma:imei:1>";x, <sip:carol@198.51.100.8>;+sip.instance="<urn:gsma:imei:2>""#;
        assert_eq!(instances(c).collect::<Vec<_>>(), ["<urn:gsma:imei:1>", "<urn:gsma:imei:2>"]);
        assert_eq!(instances("<sip:carol@x>").count(), 0);
    }

    #[test]
    fn a_limit_is_said_only_where_it_applies() {
        let one = Limits { devices: vec!["a".into()], chunked: vec![(30, 40), (10, 20)] };
        assert!(one.sentences(&[]).is_empty());
        assert!(one.sentences(&[5]).is_empty(), "a deviation before the first chunk is judged");
        assert!(one.sentences(&[5, 30]).is_empty(), "one deviation before it is enough to judge");
        assert!(one.sentences(&[0, 15]).is_empty(), "a deviation without a frame is judged");
        assert_eq!(one.sentences(&[15, 50]).len(), 1);
        let two = Limits { devices: vec!["a".into(), "b".into()], chunked: vec![] };
        assert!(two.sentences(&[]).first().is_some_and(|s| s.contains("2 devices")));
    }
}
