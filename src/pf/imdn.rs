//! The PF and disposition notifications (RFC 5438; issue 11, digest Q17). Carol's client's IMDNs
//! come to the PF over her MSRP session: it acknowledges each (RFC 4975 §7.2) and relays it to
//! the focus on her leg, as it relays her chat messages; the focus routes it by its CPIM `To`.
//! While it stores a message for her, policy `q17-imdn-while-storing` (not in the CR) decides
//! whether the PF tells the sender anything itself.

use super::*;
use crate::policy::PolicyId;
use crate::trace::*;
use crate::wire::imdn::{self as wire_imdn, ImdnStatus};
use crate::world::build::*;
use crate::world::Arrival;
use crate::world::ImdnMsg;
use crate::world::Node;

impl Pf {
    /// Carol's client's IMDN: 200 OK, and on to the focus if the PF holds a leg with an MSRP
    /// connection to it (otherwise it is lost, as her chat messages would be).
    pub(super) fn carol_imdn(&mut self, imdn: ImdnMsg, tid: String) {
        let (own, peer) = self.pf_view();
        let raw = self.ok_text(&tid, &own, &peer);
        self.msrp(self.dev, raw, "200 OK", cl!["RFC 4975 §7.2"], "The PF acknowledges the IMDN of Carol's client.", None, None);
        if self.cf_leg.is_some() && self.cf_media {
            self.imdn_to_focus(
                imdn,
                cl!["RFC 5438 §7.1.1", "RFC 4975 §7.1.1"],
                "The PF relays Carol's IMDN to the focus, which routes it to the original sender.",
            );
        } else {
            self.note(
                StepKind::Info,
                "IMDN not relayed",
                cl!["RFC 5438 §7.1.1"],
                "The PF has no MSRP connection to the focus for Carol, so her IMDN cannot reach the sender; it is lost.",
                Some(imdn.chat),
            );
        }
    }

    /// Q17: the PF has stored `chat` (from `sender`, CPIM document `body`) for Carol. Under
    /// `processing-stored` it tells the sender so (RFC 5438 §7.2.1.3); under
    /// `delivered-on-behalf` it answers `delivered` for her (not recommended, RFC 5438 §5.1);
    /// under `none` it says nothing.
    pub(super) fn q17_stored(&mut self, chat: u32, sender: &Arc<str>, body: &Arc<str>) {
        let (status, note): (ImdnStatus, &'static str) = if self.policy(PolicyId::Q17ImdnWhileStoring, "processing-stored") {
            (
                ImdnStatus::Stored,
                "Q17 policy processing-stored: the PF tells the sender it stored the message for later delivery to Carol (a processing notification, status stored; this message did not ask for processing).",
            )
        } else if self.policy(PolicyId::Q17ImdnWhileStoring, "delivered-on-behalf") {
            (
                ImdnStatus::Delivered,
                "Q17 policy delivered-on-behalf: the PF answers delivered for Carol although the message has only been stored, not delivered to her device (not recommended).",
            )
        } else {
            return;
        };
        if sender.is_empty() || !(self.cf_leg.is_some() && self.cf_media) {
            return;
        }
        let n = self.next(Node::Pf);
        let (text, dash_run): (Arc<str>, bool) = if self.wire_text() {
            let (doc, dash_run) =
                wire_imdn::answer_and_dash_run(body, &format!("<{CAROL}>"), status, &format!("pi{n:x}"), self.cfg.epoch_ms + self.now).unwrap_or_default();
            (doc.into(), dash_run)
        } else {
            (Arc::from(""), false)
        };
        let clauses = if status == ImdnStatus::Stored {
            cl!["policy:q17-imdn-while-storing", "RFC 5438 §7.2.1.3"]
        } else {
            cl!["policy:q17-imdn-while-storing", "RFC 5438 §5.1"]
        };
        self.imdn_to_focus(ImdnMsg { chat, status, to: sender.clone(), body: text, dash_run }, clauses, note);
    }

    /// Sends an IMDN to the focus on Carol's leg.
    fn imdn_to_focus(&mut self, imdn: ImdnMsg, clauses: Clauses, note: &'static str) {
        let (raw, tid) = self.send_text_known(Node::Pf, self.cf_pf_path(), self.pf_cf_path(), &imdn.body, imdn.dash_run);
        self.msrp(Node::Cf, raw, "SEND", clauses, crate::trace::note_str(note), None, Some(Arrival::PfImdnAtCf { imdn, tid }));
    }
}
