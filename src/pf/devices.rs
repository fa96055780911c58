//! Carol's devices as her PF knows them (issue 11, Q15): each 3rd-party REGISTER of the S-CSCF
//! carries her device's own REGISTER in its body (3GPP TS 24.229 §5.4.1.7: `message/sip`), whose
//! Contact names the device by its `+sip.instance` (RFC 5626 §4.1; TS 24.229 §5.1.1.2). The PF
//! keeps which of her devices are registered and which registered last.
//!
//! Which device path A invites is policy `q15-which-device` (not in the CR; the digest's Q15
//! says it is unspecified): `registering-device` (default, the digest's first reading: the
//! device whose registration made her reachable again, addressed by its Contact as the
//! Request-URI, RFC 3261 §8.1.1.1), or `fork-all` (every registered device: the PF sends a
//! delivery INVITE to each, the first 2xx wins and the PF CANCELs the others, RFC 3261 §9.1; a
//! 2xx that comes anyway is ACKed and ended with BYE, §13.2.2.4 / §15). The forking is the PF's
//! (a B2BUA with one INVITE client transaction per device), our choice over S-CSCF forking
//! (§16.7): the PF keeps each leg's transaction, so it decides which answer wins.
//!
//! With one device (every scenario without `devices`) nothing here changes a message: the
//! Request-URI stays her AOR and there is nothing to fork to.

use super::*;
use crate::policy::PolicyId;
use crate::trace::*;
use crate::world::build::{Builder, CAROL, CAROL_IP, TABLET_IP};
use crate::world::Arrival;

/// What this module's steps cite for the policy.
const Q15: &str = "policy:q15-which-device";

impl Pf {
    /// A 3rd-party REGISTER of device `d` (`on`: a registration, or a de-registration). Returns
    /// whether Carol has no device registered any more (for a de-registration: the last one went).
    pub(super) fn device_registers(&mut self, d: Node, on: bool) -> bool {
        match d {
            Node::Tablet => self.registered.1 = on,
            _ => self.registered.0 = on,
        }
        if on {
            self.reg_dev = d;
        } else if self.reg_dev == d && self.registered != (false, false) {
            self.reg_dev = if d == Node::Tablet { Node::Carol } else { Node::Tablet };
        }
        self.registered == (false, false)
    }

    /// The 3rd-party REGISTER with `Expires: 0` of one of her devices while another stays
    /// registered: she is still registered, so it changes nothing for a deferral (our reading of
    /// policy dereg-while-deferred with several devices, not in the CR).
    pub(super) fn other_device_deregistered(&mut self, txn: Txn) {
        let r = self.response(200, &txn, Some("pf-reg"));
        self.sip(
            Node::Scscf,
            r,
            cl!["3GPP TS 24.229 §5.4.1.7", "RFC 3261 §10.2.2"],
            "The PF accepts the 3rd-party REGISTER with Expires: 0 of one of Carol's devices; her other device is still registered.",
            None,
        );
        self.note(
            StepKind::Info,
            "one device de-registered",
            cl!["RFC 3261 §10.2.2", Q15],
            "Carol's other device keeps its binding, so she is still registered: this de-registration changes nothing for the deferral (our reading).",
            None,
        );
    }

    /// The Request-URI of a request to device `d` (RFC 3261 §8.1.1.1): her AOR with one device
    /// (the S-CSCF retargets it to her contact), the device's own Contact URI with two.
    pub(super) fn ruri_of(&self, d: Node) -> String {
        match (self.cfg.tablet, d) {
            (false, _) => CAROL.to_string(),
            (true, Node::Tablet) => format!("sip:carol@{TABLET_IP}:5060;transport=tcp"),
            (true, _) => format!("sip:carol@{CAROL_IP}:5060;transport=tcp"),
        }
    }

    /// Which of Carol's devices a message to her goes to: a request by its Request-URI (her
    /// tablet's Contact, or else her phone: her AOR, which the S-CSCF retargets to the phone's
    /// contact), a response along its Via (the last entry is the device that sent the request,
    /// RFC 3261 §18.2.2).
    pub(super) fn device_of_msg(m: &crate::wire::sip::SipMessage) -> Node {
        let tablet = match &m.start {
            crate::wire::sip::StartLine::Request { uri, .. } => uri.contains(TABLET_IP),
            _ => m
                .headers
                .iter()
                .rev()
                .find(|(n, _)| n.eq_ignore_ascii_case("Via"))
                .is_some_and(|(_, v)| v.rsplit(',').next().is_some_and(|l| l.contains(TABLET_IP))),
        };
        if tablet {
            Node::Tablet
        } else {
            Node::Carol
        }
    }

    /// A request from Carol that forms a dialog (her SUBSCRIBE): the dialog is with her tablet if
    /// the request came from it (its Via).
    pub(super) fn note_device_of(&mut self, txn: &Txn) {
        if self.cfg.tablet && txn.via.rsplit(',').next().is_some_and(|l| l.contains(TABLET_IP)) && !self.tablet_calls.contains(&txn.call_id) {
            self.tablet_calls.push(txn.call_id.clone());
        }
    }

    /// The remote target of dialog `call_id` with Carol (RFC 3261 §12.2.1.1): her tablet's or her
    /// phone's Contact URI.
    pub(super) fn target_for(&self, call_id: &str) -> String {
        let ip = if self.tablet_calls.iter().any(|c| c == call_id) { TABLET_IP } else { CAROL_IP };
        format!("sip:carol@{ip}:5060;transport=tcp")
    }

    /// The Request-URI of the PF's INVITE `i` (a CANCEL and the ACK of a failure copy it, RFC
    /// 3261 §9.1, §17.1.1.3): the focus's invitation it forwards goes to her AOR.
    pub(super) fn invite_ruri(&self, i: &PfInvite) -> String {
        if i.purpose == InvitePurpose::ForwardCf {
            CAROL.to_string()
        } else {
            self.ruri_of(i.to)
        }
    }

    /// Path A picks its device (policy q15-which-device): the device that registered last.
    pub(super) fn pick_device(&mut self) {
        self.dev = self.reg_dev;
    }

    /// The other registered device path A also invites under `fork-all`, if any.
    pub(super) fn fork_target(&self) -> Option<Node> {
        if !self.cfg.tablet || self.cfg.policies.index(PolicyId::Q15WhichDevice) != 1 {
            return None;
        }
        let other = if self.dev == Node::Tablet { Node::Carol } else { Node::Tablet };
        let reg = if other == Node::Tablet { self.registered.1 } else { self.registered.0 };
        reg.then_some(other)
    }

    /// A response to INVITE `inv` that belongs to the fork (policy `fork-all`): handled here
    /// (true), or not the fork's (false). A 2xx on the fork while the main INVITE is still
    /// pending makes the fork the main INVITE (the first 2xx wins), and the other is cancelled.
    pub(super) fn fork_response(&mut self, inv: u32, code: u16, txn: &Txn) -> bool {
        let Some((fd, f)) = self.fork.as_mut().filter(|(_, f)| f.id == inv) else { return false };
        let fd = *fd;
        if code < 200 {
            // Proceeding: Timer B no longer runs (RFC 3261 §17.1.1.2).
            let t = f.timer_b;
            f.provisional = true;
            self.stop_timer(t);
            let Some((_, f)) = self.fork.as_mut() else { return true };
            if std::mem::take(&mut f.cancel_wanted) {
                self.cancel_fork_now(crate::trace::note_str("The provisional response has come, so the PF now cancels its INVITE to Carol's other device."));
            }
            return true;
        }
        let timer_b = f.timer_b;
        let cancelled = f.cancelled;
        self.stop_timer(timer_b);
        let main_pending = self.invite.as_ref().is_some_and(|i| !i.answered && !i.cancelled);
        if (200..300).contains(&code) && main_pending && !cancelled {
            // The fork answered first: it becomes the delivery INVITE, the other is cancelled.
            let (d, f) = self.fork.take().expect("fork");
            let main = self.invite.replace(f).expect("main INVITE");
            self.fork = Some((self.dev, main));
            self.dev = d;
            self.note(
                StepKind::Info,
                "first 2xx wins",
                cl!["RFC 3261 §13.2.2.4", Q15],
                "Policy q15-which-device fork-all: Carol's other device answered first, so the delivery goes to it; the PF cancels its INVITE to the first device.",
                None,
            );
            self.cancel_fork(crate::trace::note_str(
                "Policy q15-which-device fork-all: another device answered first, so the PF cancels this INVITE (RFC 3261 §9.1).",
            ));
            return false;
        }
        let mut t = txn.clone();
        t.route = self.fork.as_ref().and_then(|(_, f)| f.txn.route.clone());
        let (_, f) = self.fork.take().expect("fork");
        if (200..300).contains(&code) {
            // A second 2xx (the CANCEL crossed it, or the main INVITE had won): confirm, then end.
            let mut d = f.dialog.clone();
            d.b_tag = txn.to.split(";tag=").nth(1).unwrap_or("").to_string();
            d.route = crate::world::build::route_set(txn.record_route.as_deref(), true);
            let target = self.ruri_of(fd);
            let ack = self.ack_or_cancel("ACK", &d, true, Node::Pf, &target);
            self.sip(fd, ack, cl!["RFC 3261 §13.2.2.4", Q15], "The PF confirms the second device's late 2xx with ACK, only to end it.", None);
            let m = {
                let mut d = d;
                self.dialog_request("BYE", &mut d, true, Node::Pf, &target)
            };
            let mut m = m;
            m.push("Reason", "SIP;cause=200;text=\"Call completed elsewhere\"");
            let bt = Txn::of(&m);
            self.sip(
                fd,
                m,
                cl!["RFC 3261 §15", Q15],
                "Policy q15-which-device fork-all: the delivery already goes to Carol's other device, so the PF ends this session at once.",
                Some(Arrival::PfByeAtCarol { txn: bt }),
            );
            return true;
        }
        let ruri = self.ruri_of(fd);
        let ack = Self::non2xx_ack(&t, &ruri);
        self.sip(fd, ack, cl!["RFC 3261 §17.1.1.3", Q15], "The PF acknowledges the failure of its INVITE to Carol's other device; the fork is over.", None);
        true
    }

    /// Timer B of the fork fired (true), or the timer is not the fork's (false).
    pub(super) fn fork_timeout(&mut self, inv: u32) -> bool {
        if !self.fork.as_ref().is_some_and(|(_, f)| f.id == inv && !f.answered) {
            return false;
        }
        self.fork = None;
        self.note(
            StepKind::Timer,
            "Timer B fired",
            cl!["RFC 3261 §17.1.1.2", Q15],
            "The INVITE to Carol's other device had no answer within 64×T1: that fork is over.",
            None,
        );
        true
    }

    /// The main delivery INVITE failed while the fork is still pending: the fork becomes the
    /// main INVITE, so its answer decides (true); false when there is no such fork.
    pub(super) fn promote_fork(&mut self) -> bool {
        if self.fork.as_ref().is_none_or(|(_, f)| f.cancelled) {
            return false;
        }
        let (d, f) = self.fork.take().expect("fork");
        self.invite = Some(f);
        self.dev = d;
        self.note(
            StepKind::Info,
            "other device still invited",
            cl![Q15],
            "Policy q15-which-device fork-all: this device failed, but the PF's INVITE to Carol's other device is still pending, so its answer decides.",
            None,
        );
        true
    }

    /// Gives the fork up: CANCEL once it has had a provisional response (RFC 3261 §9.1), else
    /// the CANCEL waits for one.
    pub(super) fn cancel_fork(&mut self, note: &'static str) {
        let Some((_, f)) = self.fork.as_mut() else { return };
        f.cancelled = true;
        if f.provisional {
            self.cancel_fork_now(note);
        } else {
            f.cancel_wanted = true;
            self.note(
                StepKind::Info,
                "CANCEL waits for a 1xx",
                cl!["RFC 3261 §9.1", Q15],
                "The PF gives its INVITE to Carol's other device up, but no provisional response has come yet, so its CANCEL waits for one.",
                None,
            );
        }
    }

    /// CANCEL of the fork's INVITE (RFC 3261 §9.1).
    fn cancel_fork_now(&mut self, note: &'static str) {
        let Some((d, f)) = self.fork.as_ref() else { return };
        let (d, id) = (*d, f.id);
        let ruri = self.ruri_of(d);
        let c = Self::cancel_for(&f.txn, &ruri);
        let txn = Txn::of(&c);
        self.sip(d, c, cl!["RFC 3261 §9.1", Q15], note, Some(Arrival::CancelAtCarol { inv: id, txn }));
    }
}
