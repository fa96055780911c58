//! The focus's own in-dialog requests on Carol's leg (digest Q16, issue 11): a session refresh
//! re-INVITE (RFC 4028 §7.4; the same media, its SDP `o=` version one higher, RFC 3264 §8),
//! optionally with a new Subject (RFC 3261 §20.36, which the focus's conference-info then
//! reports, RFC 4575 §5.3.1), or an UPDATE without an offer (RFC 3311 §5.1, RFC 4028 §7.4). The
//! scenario says when (`cf_reinvite`, `cf_update`); what Carol's PF answers is its own affair
//! (policy `q16-cf-in-dialog`). The focus ACKs every final response to its re-INVITE (a 2xx
//! end to end, RFC 3261 §13.2.2.4; any other hop by hop, §17.1.1.3), never one to an UPDATE.

use super::handlers::PF_TARGET;
use super::*;
use crate::world::build::{CF_IP, GROUP};

impl Focus {
    /// The scenario: the focus sends a re-INVITE (`update` false) or an UPDATE on Carol's leg.
    pub(super) fn sends_in_dialog(&mut self, update: bool, subject: Option<Arc<str>>) {
        let Some(mut d) = self.carol_leg.clone().filter(|_| !self.ended && self.carol_admitted) else {
            let note = if update {
                "The focus holds no leg for Carol, so it has no dialog to send an UPDATE on (the scenario's cf_update does nothing)."
            } else {
                "The focus holds no leg for Carol, so it has no dialog to send a re-INVITE on (the scenario's cf_reinvite does nothing)."
            };
            self.note(StepKind::Info, "no leg for Carol", cl!["RFC 3261 §12.2.1.1", "scenario"], note);
            return;
        };
        if self.in_dialog.is_some() {
            // RFC 3261 §14.1: no new re-INVITE while one is in progress; RFC 3311 §5.1 likewise
            // for an UPDATE with an offer. Our model sends one at a time of either.
            self.note(
                StepKind::Info,
                "request pending",
                cl!["RFC 3261 §14.1", "RFC 3311 §5.1", "scenario"],
                "The focus's previous re-INVITE or UPDATE on Carol's leg has no final response yet: it sends no second one meanwhile.",
            );
            return;
        }
        // The focus is side A of a leg it set up itself (setup `cf_invites`), side B of one the PF
        // set up (RFC 3261 §12.2.1.1: its own tag in From, its own CSeq space).
        let from_a = d.a_uri == GROUP;
        let mut m = self.dialog_request(if update { "UPDATE" } else { "INVITE" }, &mut d, from_a, Node::Cf, PF_TARGET);
        let cseq = if from_a { d.a_cseq } else { d.b_cseq };
        self.carol_leg = Some(d);
        // Both are target refresh requests: they carry Contact (RFC 3261 §14.1, RFC 3311 §5.1).
        m.push("Contact", self.contact(Node::Cf));
        m.push("Supported", "timer");
        let se = if self.cfg.policies.is(crate::policy::PolicyId::MsrpLossDetection, "session-refresh") { "180;refresher=uac" } else { "1800;refresher=uac" };
        m.push("Session-Expires", se);
        if let Some(s) = &subject {
            m.push("Subject", s.to_string());
        }
        if !update {
            m.push("Content-Type", "application/sdp");
            m.body = self.refresh_offer();
        }
        self.in_dialog = Some((cseq, update));
        let txn = Txn::of(&m);
        let (clauses, note) = match (update, subject.is_some()) {
            (true, _) => (
                cl!["RFC 3311 §5.1", "RFC 4028 §7.4", "scenario"],
                "The focus refreshes Carol's leg with an UPDATE without an offer (the scenario); it reaches her PF, which holds the leg.",
            ),
            (false, false) => (
                cl!["RFC 4028 §7.4", "RFC 3264 §8", "scenario"],
                "The focus refreshes Carol's leg with a re-INVITE (the scenario): the same media, its SDP o= version one higher. It reaches her PF.",
            ),
            (false, true) => (
                cl!["RFC 3261 §14.1", "RFC 3264 §8", "scenario"],
                "The focus sends a re-INVITE on Carol's leg with the conference's new Subject (the scenario), its media unchanged (SDP o= version one higher). It reaches her PF.",
            ),
        };
        self.sip(Node::Pf, m, clauses, note, Some(Arrival::CfInDialogAtPf { txn, update }));
        if let Some(s) = subject {
            // The subject is conference state: its subscribers hear of the change (RFC 4575 §4.2,
            // §5.3.1).
            self.subject = Some(s);
            if self.sub.is_some() {
                self.notify_pf("The focus reports the conference's new Subject to the PF's subscription (RFC 4575 §4.2, §5.3.1).");
            }
        }
    }

    /// Its last SDP on Carol's leg again, the `o=` version one higher (RFC 3264 §8: the same
    /// session, a new version of it). A run that starts established never showed the leg's SDP:
    /// the focus describes the same media as its answer would have.
    fn refresh_offer(&mut self) -> String {
        let sdp = match self.carol_sdp.take() {
            Some(s) => s,
            None => {
                let path = Builder::cf_pf_path(self).to_string();
                self.sdp(Node::Cf, "cf", CF_IP, 30000, path, "passive")
            }
        };
        // Only the wire text has a body to raise (the page's first wasm module has none).
        let next = if self.wire_text() { next_version(sdp) } else { sdp };
        self.carol_sdp = Some(next.clone());
        next
    }

    /// The PF's final response to the focus's re-INVITE or UPDATE.
    pub(super) fn gets_in_dialog_response(&mut self, code: u16, txn: Txn) {
        let Some((cseq, update)) = self.in_dialog.filter(|(n, _)| *n == cseq_no(&txn.cseq)) else { return };
        self.in_dialog = None;
        let leg = self.carol_leg.clone().filter(|d| d.call_id == txn.call_id);
        if !update {
            if (200..300).contains(&code) {
                if let Some(d) = &leg {
                    // The ACK of a 2xx is a new transaction of the dialog, with the INVITE's CSeq
                    // number (RFC 3261 §13.2.2.4).
                    let mut ack = self.ack_or_cancel("ACK", d, d.a_uri == GROUP, Node::Cf, PF_TARGET);
                    if let Some(c) = ack.headers.iter_mut().find(|(n, _)| n == "CSeq") {
                        c.1 = format!("{cseq} ACK");
                    }
                    self.sip(Node::Pf, ack, cl!["RFC 3261 §13.2.2.4"], "The focus confirms the 200 to its re-INVITE with ACK.", Some(Arrival::CfAckAtPf));
                }
            } else {
                // The ACK of a non-2xx final response belongs to the INVITE transaction: its Via
                // (same branch) and the response's To (RFC 3261 §17.1.1.3).
                let mut ack = self.new_request("ACK", PF_TARGET, Node::Cf, txn.from.clone(), txn.to.clone(), &txn.call_id, cseq);
                if let Some(v) = ack.headers.iter_mut().find(|(n, _)| n == "Via") {
                    v.1 = txn.via.clone();
                }
                self.sip(
                    Node::Pf,
                    ack,
                    cl!["RFC 3261 §17.1.1.3"],
                    "The focus acknowledges the failure response to its re-INVITE hop by hop.",
                    Some(Arrival::CfAckAtPf),
                );
            }
        }
        match code {
            200..=299 => self.note(
                StepKind::Info,
                "refreshed",
                cl!["RFC 4028 §7.4"],
                if update {
                    "The PF accepted the focus's UPDATE: Carol's leg is refreshed."
                } else {
                    "The PF accepted the focus's re-INVITE: Carol's leg is refreshed, its session as it was."
                },
            ),
            481 if leg.is_some() => {
                // The PF holds no such dialog: the leg is gone (RFC 3261 §12.2.1.2).
                self.note(StepKind::Info, "leg gone", cl!["RFC 3261 §12.2.1.2"], "The PF holds no such dialog: the focus ends Carol's leg at its side.");
                self.carol_admitted = false;
                self.carol_leg = None;
                self.leg_gone();
                self.user_leaves(Who::Carol, "failed");
                self.roster_changed();
            }
            _ => self.note(
                StepKind::Info,
                "refused",
                cl!["RFC 3261 §14.1", "RFC 3311 §5.2"],
                "Carol's PF refused the focus's request: the leg and its session stay as they were before it (RFC 3261 §14.1, RFC 3311 §5.2).",
            ),
        }
    }
}

/// `sdp` with the version of its `o=` line one higher (RFC 4566 §5.2, RFC 3264 §8); unchanged
/// if it does not parse (a run without wire texts has no body).
fn next_version(sdp: String) -> String {
    match crate::wire::sdp::MsrpSdp::parse(&sdp) {
        Ok(mut s) => {
            s.version += 1;
            s.emit()
        }
        Err(_) => sdp,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn next_version_raises_only_the_o_version() {
        let s = "v=0\r\no=cf 10 10 IN IP4 192.0.2.20\r\ns=-\r\nc=IN IP4 192.0.2.20\r\nt=0 0\r\nm=message 30000 TCP/MSRP *\r\na=path:msrp://192.0.2.20:30000/x;tcp\r\na=setup:passive\r\n";
        let n = super::next_version(s.to_string());
        assert!(n.contains("\r\no=cf 10 11 IN IP4 192.0.2.20\r\n"), "{n}");
        assert_eq!(super::next_version(String::new()), "");
    }
}
