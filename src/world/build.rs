//! Wire-text builders: identities, dialogs and transactions (RFC 3261 §12, §17), SDP offers and
//! answers, CPIM bodies and MSRP SENDs. Values follow the research digest's example identities.

use super::{Node, World};
use crate::scenario::{Scenario, Who};
use crate::trace::Participant;
use crate::wire::conference_info::{ConfUser, ConferenceInfo};
/// Whether a body has seven `-` in a row (the MSRP end-line's start; `wire::msrp`).
pub(crate) use crate::wire::msrp::has_dash_run;
use crate::wire::sdp::MsrpSdp;
use crate::wire::sip::SipMessage;
use std::borrow::Cow;
use std::sync::Arc;

pub const GROUP: &str = "sip:chat-7f3a9c@cf.cpm.example.net";
/// [`GROUP`] in angle brackets (the CPIM `To` of every chat message).
const GROUP_BRACKETED: &str = "<sip:chat-7f3a9c@cf.cpm.example.net>";
pub const FACTORY: &str = "sip:conf-factory@cf.cpm.example.net";
pub const CAROL: &str = "sip:carol@ims.example.net";
pub const CAROL_IP: &str = "198.51.100.7";
/// Her tablet's address (issue 11, Q15: her second device).
pub const TABLET_IP: &str = "198.51.100.8";
/// Her phone's `+sip.instance` (RFC 5626 §4.1; 3GPP TS 24.229 §5.1.1.2: the IMEI URN).
pub const PHONE_INSTANCE: &str = "<urn:gsma:imei:35390806-030422-0>";
/// Her tablet's `+sip.instance` (issue 11, Q15).
pub const TABLET_INSTANCE: &str = "<urn:gsma:imei:35875206-118803-0>";
pub const PF_HOST: &str = "pf.cpm.example.net";
pub const PF_IP: &str = "192.0.2.10";
pub const CF_HOST: &str = "cf.cpm.example.net";
pub const CF_IP: &str = "192.0.2.20";
pub const SCSCF_HOST: &str = "scscf.ims.example.net";
/// Carol's side's route set through the core (her preloaded Route): the same vocabulary for her
/// client.
pub(crate) use super::ims::CAROL_ROUTE;
/// The route set the PF keeps for a dialog with Carol that exists at t = 0 (the IMS core's
/// Record-Route as her PF sees it, RFC 3261 §12.1.1): part of the wire vocabulary the PF may use.
pub(crate) use super::ims::PF_ROUTE;
pub const CONVERSATION_ID: &str = "8a3e2b1c-4d5f-4c11-9b0e-6f7a1c2d3e4f";
pub const CONTRIBUTION_ID: &str = "2f4d6e8a-1b3c-4d5e-8f90-a1b2c3d4e5f6";
/// The Conversation-ID and Contribution-ID a re-join INVITE carries (Q20): the session's own
/// ([`CONVERSATION_ID`], [`CONTRIBUTION_ID`]), or new ones (UUIDs of this model, told apart by
/// `n`, the client's session number).
pub fn rejoin_ids(ids: crate::scenario::RejoinIds, n: u32) -> (String, String) {
    use crate::scenario::RejoinIds;
    let other = |base: &str| format!("{}{n:08x}", &base[..base.len() - 8]);
    match ids {
        RejoinIds::Same => (CONVERSATION_ID.to_string(), CONTRIBUTION_ID.to_string()),
        RejoinIds::NewContribution => (CONVERSATION_ID.to_string(), other(CONTRIBUTION_ID)),
        RejoinIds::NewConversation => (other(CONVERSATION_ID), other(CONTRIBUTION_ID)),
    }
}
pub const ICSI: &str = "+g.3gpp.icsi-ref=\"urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.session\"";
pub const SUBJECT: &str = "Friday planning";
const ACCEPT_TYPES: &str = "message/cpim application/im-iscomposing+xml";
const WRAPPED: &str = "text/plain message/imdn+xml";

/// The PF's URI for the group session, Carol's client's remote target: the PF is the UAS and UAC of her dialogs (an
/// AS behind her S-CSCF, 3GPP TS 24.229 §5.7.1), so her in-dialog requests come back to it
/// through the core (RFC 3261 §12.2.1.1), not to the focus.
pub const PF_TARGET: &str = "sip:chat-7f3a9c@pf.cpm.example.net";

/// The Contact the PF gives Carol's client: itself, marked as the focus of her group session
/// (RFC 4579 §3: `isfocus`).
pub(crate) fn pf_focus_contact() -> String {
    format!("<{PF_TARGET}>;isfocus;{ICSI}")
}

/// The header values a response copies from its request (RFC 3261 §8.2.6.2).
#[derive(Debug, Clone)]
pub(crate) struct Txn {
    pub via: String,
    pub from: String,
    pub to: String,
    pub call_id: String,
    pub cseq: String,
    /// The request's Route (a CANCEL and the ACK of a non-2xx copy it, RFC 3261 §9.1, §17.1.1.3).
    pub route: Option<String>,
    /// The request's Session-Expires: a 2xx to an INVITE or UPDATE answers it (RFC 4028 §9).
    pub session_expires: Option<String>,
    /// Its Record-Route entries, top first, joined with ", " (a UAS copies them into its 18x
    /// and 2xx, RFC 3261 §12.1.1; each side builds its route set from them, §12.1.1/§12.1.2).
    pub record_route: Option<String>,
}

impl Txn {
    pub fn of(m: &SipMessage) -> Txn {
        let h = |n| m.header(n).unwrap_or("").to_string();
        Txn {
            via: joined(m, "Via").unwrap_or_default(),
            from: h("From"),
            to: h("To"),
            call_id: h("Call-ID"),
            cseq: h("CSeq"),
            route: m.header("Route").map(str::to_string),
            session_expires: m.header("Session-Expires").map(str::to_string),
            // Only the wire text shows Record-Route and Route (the first wasm module has none).
            record_route: if cfg!(feature = "wire-text") { joined(m, "Record-Route") } else { None },
        }
    }
}

/// Every value of header `name`, in order, joined with ", " (RFC 3261 §7.3.1: the same list as
/// one comma-separated line); None if there is none. One line is kept as it is.
pub(crate) fn joined(m: &SipMessage, name: &str) -> Option<String> {
    let mut it = m.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str());
    let first = it.next()?;
    let mut out = first.to_string();
    for v in it {
        out.push_str(", ");
        out.push_str(v);
    }
    Some(out)
}

/// The route set a dialog's side keeps from the Record-Route list `rr` (top first) of the
/// message that formed it: the UAS keeps the request's list as it is (RFC 3261 §12.1.1), the UAC
/// the 2xx's list reversed (§12.1.2). Empty when nothing Record-Routed.
pub(crate) fn route_set(rr: Option<&str>, uac: bool) -> String {
    let Some(rr) = rr.filter(|_| cfg!(feature = "wire-text")) else { return String::new() };
    if !uac {
        return rr.to_string();
    }
    let mut v: Vec<&str> = crate::strs::split(rr, ", ").collect();
    v.reverse();
    v.join(", ")
}

/// A SIP dialog between side A (the one that sent the INVITE) and side B.
#[derive(Debug, Clone)]
pub(crate) struct Dialog {
    pub call_id: String,
    pub a_uri: String,
    pub a_tag: String,
    pub b_uri: String,
    pub b_tag: String,
    pub a_cseq: u32,
    pub b_cseq: u32,
    /// The route set of the side that holds this record (RFC 3261 §12.1.1, §12.1.2), top first,
    /// joined with ", "; empty when none. An in-dialog request carries it as its Route (§12.2.1.1).
    pub route: String,
}

impl Dialog {
    /// Carol's client (A) ↔ her PF (B), session number `n`.
    pub fn carol_pf(n: u32) -> Dialog {
        Dialog {
            call_id: format!("c-{n:04x}-5a9e@{CAROL_IP}"),
            a_uri: CAROL.into(),
            a_tag: format!("c-{:03x}", 0x771 + n),
            b_uri: GROUP.into(),
            b_tag: format!("pf-{:02x}", 0x91 + n),
            a_cseq: 1,
            b_cseq: 0,
            route: String::new(),
        }
    }
    /// PF (A) → Carol's client (B): the PF's own INVITE, number `n`.
    pub fn pf_carol(n: u64) -> Dialog {
        Dialog {
            call_id: format!("pf-dd{n:02x}-5a9e@{PF_HOST}"),
            a_uri: GROUP.into(),
            a_tag: format!("pf-{:03x}", 0x1c2 + n),
            b_uri: CAROL.into(),
            b_tag: String::new(),
            a_cseq: 1,
            b_cseq: 0,
            route: String::new(),
        }
    }
    /// Carol's PF (A, acting for Carol) ↔ the CF (B), number `n`.
    pub fn pf_cf(n: u64) -> Dialog {
        Dialog {
            call_id: format!("pfcf-{n:02x}-77e1@{PF_HOST}"),
            a_uri: CAROL.into(),
            a_tag: format!("pfo-{:02x}", 0x3a + n),
            b_uri: GROUP.into(),
            b_tag: format!("cf-{:02x}", 0x51 + n),
            a_cseq: 1,
            b_cseq: 0,
            route: String::new(),
        }
    }
    /// The CF (A) inviting Carol's PF (B) (setup `cf_invites`).
    pub fn cf_pf(n: u64) -> Dialog {
        Dialog {
            call_id: format!("cf-inv-{n:02x}@{CF_HOST}"),
            a_uri: GROUP.into(),
            a_tag: format!("cf-{:02x}", 0x61 + n),
            b_uri: CAROL.into(),
            b_tag: format!("pft-{:02x}", 0x21 + n),
            a_cseq: 1,
            b_cseq: 0,
            route: String::new(),
        }
    }
    /// Member `i` (A) ↔ the CF (B).
    pub fn member_cf(i: usize, n: u64) -> Dialog {
        Dialog {
            call_id: format!("m{i}-{n:02x}-2b4@198.51.100.{}", 21 + i),
            a_uri: String::new(),
            a_tag: format!("m{i}-{:02x}", 0x10 + n),
            b_uri: GROUP.into(),
            b_tag: format!("cfm{i}-{n:02x}"),
            a_cseq: 1,
            b_cseq: 0,
            route: String::new(),
        }
    }
}

/// One actor's own source of identifiers: the tags, Via branches, Call-IDs, MSRP transaction ids
/// and Message-IDs, SDP session ids and MSRP path numbers it makes up. Each actor has its own, so
/// what an actor sends depends only on what it did itself (issue 10: each actor a machine).
#[derive(Debug, Clone)]
pub(crate) struct Ids {
    n: u64,
    sdp: u64,
    path: u32,
    /// The first MSRP path number it hands out, minus one (the PF's and Carol's numbers must not
    /// meet: her answer to the PF's offer uses the offer's number for her own path).
    path_base: u32,
    /// Mixed into MSRP ids so that two actors' transaction ids on one connection differ.
    salt: u64,
    /// Put into every Via branch it makes, so branches are unique across actors (RFC 3261 §8.1.1.7).
    pub code: &'static str,
}

impl Ids {
    /// The id source of the actor on lane `lane` (its branch `code`).
    pub fn new(lane: usize, code: &'static str, path_base: u32) -> Ids {
        Ids { n: 0, sdp: 0, path: 0, path_base, salt: (lane as u64 + 1) << 40, code }
    }
    /// The same, with its SDP session ids counted from `n` (Carol's tablet: the `o=` lines of
    /// her two devices differ, RFC 8866 §5.2).
    pub fn sdp_from(mut self, n: u64) -> Ids {
        self.sdp = n;
        self
    }
    /// A fresh number, unique for this actor.
    pub fn next(&mut self) -> u64 {
        self.n += 1;
        self.n
    }
    /// A fresh number mixed with the actor's salt (MSRP transaction ids and Message-IDs).
    pub fn next_salted(&mut self) -> u64 {
        self.next().wrapping_add(self.salt)
    }
    /// A fresh SDP session id number (RFC 8866 §5.2: the `o=` line names the actor too).
    pub fn sdp_session(&mut self) -> u64 {
        self.sdp += 1;
        self.sdp
    }
    /// A fresh MSRP path number for an SDP offer.
    pub fn path_no(&mut self) -> u32 {
        self.path += 1;
        self.path_base + self.path
    }
}

/// Whether `b` builds wire text: never in a build without the `wire-text` feature (the page's
/// first wasm module), which lets the compiler leave every text builder out of it even where
/// `b` is a `dyn Builder`.
#[inline(always)]
fn texts(b: &(impl Builder + ?Sized)) -> bool {
    cfg!(feature = "wire-text") && b.wire_text()
}

/// The wire-text builders every actor uses for what it sends (RFC 3261 requests, responses,
/// ACK and CANCEL; SDP; MSRP SENDs and responses), over its own [`Ids`]. The world's actors and
/// the PF ([`crate::pf::Pf`]) each implement the four accessors.
pub(crate) trait Builder {
    /// Actor `n`'s id source (the PF has only its own).
    fn ids(&mut self, n: Node) -> &mut Ids;
    /// Whether wire texts are built in this run ([`World::wire`]).
    fn wire_text(&self) -> bool;
    /// The run's policies.
    fn policies(&self) -> &crate::policy::Policies;
    /// Member `i`'s user part (the scenario's configuration).
    fn member_id(&self, i: usize) -> &str;
    /// The address of Carol's device this builder speaks for or to (issue 11, Q15: her phone
    /// unless it is her tablet's client, or the PF's leg is with her tablet).
    fn carol_ip(&self) -> &'static str {
        CAROL_IP
    }

    fn via_host(&self, n: Node) -> String {
        match n {
            Node::Carol => format!("{CAROL_IP}:5060"),
            Node::Tablet => format!("{TABLET_IP}:5060"),
            Node::Pf => format!("{PF_HOST}:5060"),
            Node::Cf => format!("{CF_HOST}:5060"),
            Node::Member(i) => format!("198.51.100.{}:5060", 21 + i),
            Node::Scscf => format!("{SCSCF_HOST}:5060"),
        }
    }

    fn contact(&self, n: Node) -> String
    where
        Self: Sized,
    {
        contact_dyn(self, n)
    }

    /// A new request with Via (fresh branch), Max-Forwards, From, To, Call-ID and CSeq.
    #[allow(clippy::too_many_arguments)]
    fn new_request(&mut self, method: &'static str, ruri: &str, from_node: Node, from: String, to: String, call_id: &str, cseq: u32) -> SipMessage
    where
        Self: Sized,
    {
        new_request_dyn(self, method, ruri, from_node, from, to, call_id, cseq)
    }

    /// An in-dialog request from side A (`from_a`) or side B.
    fn dialog_request(&mut self, method: &'static str, d: &mut Dialog, from_a: bool, from_node: Node, target: &str) -> SipMessage
    where
        Self: Sized,
    {
        dialog_request_dyn(self, method, d, from_a, from_node, target)
    }

    /// An ACK for a 2xx (new transaction, same CSeq number) or a CANCEL (same branch semantics
    /// simplified: same CSeq number).
    fn ack_or_cancel(&mut self, method: &'static str, d: &Dialog, from_a: bool, from_node: Node, target: &str) -> SipMessage
    where
        Self: Sized,
    {
        ack_or_cancel_dyn(self, method, d, from_a, from_node, target)
    }

    /// The ACK for a non-2xx final answer to an INVITE (RFC 3261 §17.1.1.3): part of the INVITE
    /// transaction, so it reuses the INVITE's Via (same branch), Route, From, Call-ID and CSeq
    /// number, and takes the To header (with its tag) from the answer. `resp` is the answer's
    /// header set with the INVITE's Route.
    fn non2xx_ack(resp: &Txn, ruri: &str) -> SipMessage
    where
        Self: Sized,
    {
        let mut m = SipMessage::request("ACK", ruri);
        m.push("Via", resp.via.clone());
        if let Some(r) = &resp.route {
            m.push("Route", r.clone());
        }
        m.push("Max-Forwards", "70");
        m.push("From", resp.from.clone());
        m.push("To", resp.to.clone());
        m.push("Call-ID", resp.call_id.clone());
        m.push("CSeq", format!("{} ACK", resp.cseq.split_whitespace().next().unwrap_or("1")));
        m
    }

    /// A CANCEL for a pending INVITE (RFC 3261 §9.1): the INVITE's Request-URI, top Via (same
    /// branch), From, To (no tag), Call-ID and CSeq number, with the method CANCEL.
    fn cancel_for(invite: &Txn, ruri: &str) -> SipMessage
    where
        Self: Sized,
    {
        let mut m = Self::non2xx_ack(invite, ruri);
        m.start = crate::wire::sip::StartLine::Request { method: std::borrow::Cow::Borrowed("CANCEL"), uri: ruri.to_string() };
        if let Some(c) = m.headers.iter_mut().find(|(n, _)| n == "CSeq") {
            c.1 = format!("{} CANCEL", invite.cseq.split_whitespace().next().unwrap_or("1"));
        }
        m
    }

    /// A response copying Via, From, To (adding `to_tag`), Call-ID and CSeq ([`response`]).
    fn response(&self, code: u16, txn: &Txn, to_tag: Option<&str>) -> SipMessage {
        response(code, txn, to_tag)
    }

    /// CPM session headers on an INVITE (Contact, Conversation-ID, Contribution-ID …).
    fn cpm_headers(&self, m: &mut SipMessage, contact_of: Node)
    where
        Self: Sized,
    {
        cpm_headers_dyn(self, m, contact_of)
    }

    /// [`World::cpm_headers`] with the PF's own Contact towards Carol ([`pf_focus_contact`]).
    fn cpm_headers_as_focus(&self, m: &mut SipMessage)
    where
        Self: Sized,
    {
        self.cpm_headers_with(m, pf_focus_contact());
    }

    fn cpm_headers_with(&self, m: &mut SipMessage, contact: String)
    where
        Self: Sized,
    {
        cpm_headers_with_dyn(self, m, contact)
    }

    // ---------------------------------------------------------------- MSRP endpoints

    /// Carol's MSRP URI number `n` (empty without wire texts: only the texts use it).
    fn carol_path_n(&self, n: u32) -> String {
        if !texts(self) {
            return String::new();
        }
        let mut s = String::with_capacity(48);
        s.push_str("msrp://");
        s.push_str(self.carol_ip());
        s.push_str(":49152/c");
        push_hex4(&mut s, n);
        s.push_str("r0lx;tcp");
        s
    }
    /// The PF's MSRP URI number `n` towards Carol (empty without wire texts).
    fn pf_path_n(&self, n: u32) -> String {
        if !texts(self) {
            return String::new();
        }
        let mut s = String::with_capacity(48);
        s.push_str("msrp://");
        s.push_str(PF_IP);
        s.push_str(":20000/pf");
        push_hex4(&mut s, n);
        s.push_str("d2k3;tcp");
        s
    }
    /// A new path number for an SDP offer on Carol's access, from the offerer `by`.
    fn new_path_no(&mut self, by: Node) -> u32 {
        self.ids(by).path_no()
    }
    /// The PF's own MSRP URI on its leg to the focus.
    fn pf_cf_path(&self) -> &'static str {
        "msrp://192.0.2.10:20001/pfcf77e1;tcp"
    }
    /// The focus's MSRP URI on the PF's leg.
    fn cf_pf_path(&self) -> &'static str {
        "msrp://192.0.2.20:30000/cfcarol9;tcp"
    }

    /// An SDP offer or answer; every body gets a session id of its own, so no two sessions share
    /// an `o=` line (RFC 8866 §5.2).
    fn sdp(&mut self, by: Node, user: &str, ip: &str, port: u16, path: String, setup: &str) -> String
    where
        Self: Sized,
    {
        sdp_dyn(self, by, user, ip, port, path, setup)
    }

    /// A complete SEND.
    ///
    /// Without wire texts neither the text nor the transaction id is needed (the id only goes
    /// into the SEND and its 200 OK). The counter still advances, though no value of it shows
    /// in a trace without texts: the steps are the same either way.
    fn send_text(&mut self, by: Node, to_path: &str, from_path: &str, body: Option<&Arc<str>>) -> (String, String)
    where
        Self: Sized,
    {
        send_text_dyn(self, by, to_path, from_path, body.map(|b| (b, None)))
    }

    /// [`Builder::send_text`] of a body whose writer knows whether it has seven `-` in a row
    /// ([`has_dash_run`]; an IMDN's document, relayed hop by hop): it is not searched again.
    fn send_text_known(&mut self, by: Node, to_path: &str, from_path: &str, body: &Arc<str>, dash_run: bool) -> (String, String)
    where
        Self: Sized,
    {
        send_text_dyn(self, by, to_path, from_path, Some((body, Some(dash_run))))
    }

    /// A new MSRP `Message-ID` for a message sent in chunks (RFC 4975 §7.1.1: every chunk of
    /// it carries this one); empty without wire texts, though the counter advances either way.
    fn msrp_message_id(&mut self, by: Node) -> String
    where
        Self: Sized,
    {
        let n = self.ids(by).next_salted();
        if !texts(self) {
            return String::new();
        }
        let mut s = String::with_capacity(12);
        s.push('m');
        push_base36(&mut s, mix(n ^ 0x5555), 10);
        s
    }

    /// One chunk of a SEND (RFC 4975 §5.1, §7.1.1): bytes `part` (0-based) of `body` under
    /// `message_id`, flag `+` before the last chunk and `$` on it. Like
    /// [`Builder::send_text`], without wire texts only the counter advances.
    fn chunk_text(&mut self, by: Node, to_path: &str, from_path: &str, message_id: &str, body: &Arc<str>, part: std::ops::Range<usize>) -> (String, String)
    where
        Self: Sized,
    {
        if !texts(self) {
            self.ids(by).next();
            return (String::new(), String::new());
        }
        let tid = tid_dyn(self, by, Some(body), dash_run_cached(body));
        let flag = if part.end >= body.len() { '$' } else { '+' };
        (crate::wire::msrp::chunk_text(&tid, to_path, from_path, message_id, "message/cpim", body, part.start, part.end, flag), tid)
    }

    /// The 200 OK transaction response to a SEND whose To-Path/From-Path were `req_to`/`req_from`.
    fn ok_text(&self, tid: &str, req_to: &str, req_from: &str) -> String {
        if !texts(self) {
            return String::new();
        }
        crate::wire::msrp::ok_text(tid, req_to, req_from)
    }

    /// A `multipart/mixed` body of SDP and conference-info (Q13 `in-session-setup`).
    fn multipart(sdp: &str, xml: &str) -> (String, String)
    where
        Self: Sized,
    {
        let boundary = "cpm-boundary-7f3a";
        let body = format!("--{boundary}\r\nContent-Type: application/sdp\r\n\r\n{sdp}\r\n--{boundary}\r\nContent-Type: application/conference-info+xml\r\nContent-Disposition: render;handling=optional\r\n\r\n{xml}\r\n--{boundary}--\r\n");
        (format!("multipart/mixed;boundary={boundary}"), body)
    }
}

impl Builder for World<'_> {
    fn ids(&mut self, n: Node) -> &mut Ids {
        self.ids_of(n)
    }
    fn wire_text(&self) -> bool {
        self.wire()
    }
    fn policies(&self) -> &crate::policy::Policies {
        &self.pol
    }
    fn member_id(&self, i: usize) -> &str {
        &self.sc.members[i].id
    }
}

impl World<'_> {
    /// The MSRP URIs of every member and of the focus towards them, computed once per run.
    pub(crate) fn member_paths(sc: &Scenario) -> Vec<Arc<str>> {
        let mut v = Vec::with_capacity(2 * sc.members.len());
        for (i, m) in sc.members.iter().enumerate() {
            v.push(Arc::from(format!("msrp://198.51.100.{}:4915{}/{}m{i};tcp", 21 + i, i % 10, m.id)));
            v.push(Arc::from(format!("msrp://{CF_IP}:30000/cfm{i}x{};tcp", m.id.len())));
        }
        v
    }

    /// The CPIM document of a chat message (RFC 3862 with RFC 5438 IMDN headers), written in
    /// one piece: what [`crate::wire::cpim::write_document`] writes for these headers. Whether
    /// it has seven `-` in a row ([`tid_dyn`]) is told to the transaction-id check from its
    /// parts: only the sender's name and id and the text can have them.
    pub(crate) fn cpim(&self, from: Who, imdn_id: &str, sent_ms: u64, text: &str) -> Arc<str> {
        // The fixed text is about 300 bytes; a quoted name at most doubles.
        let who = match from {
            Who::Carol => 0,
            Who::Member(i) => 2 * self.sc.members[i].name.len() + self.sc.members[i].id.len(),
        };
        // Written into one reused buffer and copied once into the shared document (a fresh
        // String per message was a second allocation, a copy and a free).
        CPIM_BUF.with(|buf| {
            let mut buf = buf.borrow_mut();
            buf.clear();
            buf.reserve(330 + who + text.len());
            self.cpim_into(&mut buf, from, imdn_id, sent_ms, text)
        })
    }

    /// [`World::cpim`] into `out` (empty, with room for it).
    fn cpim_into(&self, out: &mut String, from: Who, imdn_id: &str, sent_ms: u64, text: &str) -> Arc<str> {
        out.push_str("From: ");
        match from {
            Who::Carol => {
                out.push_str("\"Carol\" <");
                out.push_str(CAROL);
                out.push('>');
            }
            Who::Member(i) => {
                crate::wire::sip::push_quoted(out, &self.sc.members[i].name);
                out.push_str(" <sip:");
                out.push_str(&self.sc.members[i].id);
                out.push_str("@ims.example.net>");
            }
        }
        out.push_str("\r\nTo: ");
        out.push_str(GROUP_BRACKETED);
        out.push_str("\r\nNS: imdn <urn:ietf:params:imdn>\r\nimdn.Message-ID: ");
        out.push_str(imdn_id);
        out.push_str("\r\nDateTime: ");
        crate::wire::datetime::push_ms(out, self.sc.start_epoch_ms + sent_ms);
        out.push_str("\r\nimdn.Disposition-Notification: positive-delivery, display\r\n\r\nContent-Type: text/plain;charset=UTF-8\r\nContent-Length: ");
        crate::wire::sip::push_u64(out, text.len() as u64);
        out.push_str("\r\n\r\n");
        out.push_str(text);
        let dashes = has_dash_run(text)
            || match from {
                Who::Carol => false,
                Who::Member(i) => has_dash_run(&self.sc.members[i].name) || has_dash_run(&self.sc.members[i].id),
            };
        let body: Arc<str> = Arc::from(out.as_str());
        debug_assert_eq!(dashes, has_dash_run(&body), "the fixed text of a CPIM document has no seven '-' in a row");
        remember_dash_run(&body, dashes);
        body
    }
}

/// What a conference-info document says of a user beyond the trace's [`Participant`] (RFC 4575
/// §5.6: joining-info, disconnection-info): what a NOTIFY carries, kept by whoever received it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct UserInfo {
    pub dialed_out: bool,
    /// The disconnection method when the user is not connected (empty: "departed").
    pub how_left: &'static str,
    pub left_ms: Option<u64>,
}

/// A response copying Via, From, To (adding `to_tag`), Call-ID and CSeq. A 2xx to an INVITE
/// or UPDATE that asked for a session timer accepts it with the requested interval and the
/// requested refresher, else the requester (RFC 4028 §9: `refresher=uac` needs `Require: timer`).
pub(crate) fn response(code: u16, txn: &Txn, to_tag: Option<&str>) -> SipMessage {
    let mut m = SipMessage::response(code);
    // Every Via of the request, in order (RFC 3261 §8.2.6.2): the proxies' entries too.
    for v in crate::strs::split(&txn.via, ", ") {
        m.push("Via", v.to_string());
    }
    // A dialog-forming answer copies the request's Record-Route (RFC 3261 §12.1.1).
    if let (101..=299, Some(rr), true) = (code, &txn.record_route, cfg!(feature = "wire-text")) {
        if txn.cseq.ends_with(" INVITE") || txn.cseq.ends_with(" SUBSCRIBE") {
            m.push("Record-Route", rr.clone());
        }
    }
    m.push("From", txn.from.clone());
    let to = match to_tag {
        Some(t) if !crate::strs::contains(&txn.to, ";tag=") => format!("{};tag={t}", txn.to),
        _ => txn.to.clone(),
    };
    m.push("To", to);
    m.push("Call-ID", txn.call_id.clone());
    m.push("CSeq", txn.cseq.clone());
    if let (200..=299, Some(se)) = (code, &txn.session_expires) {
        if txn.cseq.ends_with(" INVITE") || txn.cseq.ends_with(" UPDATE") {
            let interval = se.split(';').next().unwrap_or(se).trim();
            let refresher = if crate::strs::contains(se, "refresher=uas") { "uas" } else { "uac" };
            m.push("Session-Expires", format!("{interval};refresher={refresher}"));
            if refresher == "uac" {
                m.push("Require", "timer");
            }
        }
    }
    m
}

/// A conference-info document (RFC 4575) with the participant list `users` and what is known of
/// each (`info`, in the same order); `epoch_ms` is the scenario's start.
pub(crate) fn conference_info_xml(epoch_ms: u64, version: u32, users: &[Participant], info: &[UserInfo]) -> String {
    conference_info_xml_about(SUBJECT, epoch_ms, version, users, info)
}

/// [`conference_info_xml`] with the conference's `subject` (RFC 4575 §5.3.1), which the focus
/// changes with a Q16 re-INVITE.
pub(crate) fn conference_info_xml_about(subject: &str, epoch_ms: u64, version: u32, users: &[Participant], info: &[UserInfo]) -> String {
    ConferenceInfo {
        entity: GROUP.into(),
        state: "full".into(),
        version,
        subject: subject.into(),
        users: users
            .iter()
            .zip(info)
            .map(|(p, r)| ConfUser {
                entity: format!("sip:{}@ims.example.net", p.id),
                display_text: p.name.clone(),
                status: p.status.into(),
                joining_method: Some(if r.dialed_out { "dialed-out" } else { "dialed-in" }.into()),
                disconnection_method: if p.status == "connected" {
                    None
                } else {
                    Some(r.how_left.to_string()).filter(|s| !s.is_empty()).or(Some("departed".into()))
                },
                disconnected_when: r.left_ms.filter(|_| p.status != "connected").map(|ms| crate::wire::datetime::format_ms(epoch_ms + ms)),
            })
            .collect(),
    }
    .emit()
}

/// Puts the route set `route` as the request's Route, right under its Via (RFC 3261 §12.2.1.1).
fn with_route(m: &mut SipMessage, route: &str) {
    if cfg!(feature = "wire-text") && !route.is_empty() {
        m.headers.insert(1, (Cow::Borrowed("Route"), route.to_string()));
    }
}

/// splitmix64: a fixed bijective mix (not randomness) for readable unique identifiers. Always
/// inlined, as it was when the page's first wasm module had one caller of it.
#[inline(always)]
pub(crate) fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

pub(crate) fn base36(n: u64, len: usize) -> String {
    let mut s = String::with_capacity(len);
    push_base36(&mut s, n, len);
    s
}

fn push_base36(s: &mut String, mut n: u64, len: usize) {
    const A: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    for _ in 0..len {
        s.push(A[(n % 36) as usize] as char);
        n /= 36;
    }
}

/// Appends `n` in lower-case hex, at least 4 digits (what `{n:04x}` writes).
fn push_hex4(s: &mut String, n: u32) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digits = (8 - n.leading_zeros() / 4).max(4);
    for i in (0..digits).rev() {
        s.push(HEX[((n >> (4 * i)) & 0xf) as usize] as char);
    }
}

pub(crate) fn base62(mut n: u64, len: usize) -> String {
    const A: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut s = String::with_capacity(len);
    for _ in 0..len {
        s.push(A[(n % 62) as usize] as char);
        n /= 62;
    }
    s
}

/// [`Builder::contact`], shared by every builder (one copy of its code, not one per implementor).
fn contact_dyn(this: &dyn Builder, n: Node) -> String {
    match n {
        Node::Carol => format!("<sip:carol@{CAROL_IP}:5060;transport=tcp>;+sip.instance=\"{PHONE_INSTANCE}\";{ICSI};+g.oma.sip-im"),
        Node::Tablet => format!("<sip:carol@{TABLET_IP}:5060;transport=tcp>;+sip.instance=\"{TABLET_INSTANCE}\";{ICSI};+g.oma.sip-im"),
        Node::Member(i) => format!("<sip:{}@198.51.100.{}:5060;transport=tcp>;{ICSI}", this.member_id(i), 21 + i),
        Node::Pf => format!("<sip:{PF_HOST};user=carol>"),
        Node::Cf => format!("<{GROUP}>;isfocus;{ICSI}"),
        Node::Scscf => format!("<sip:{SCSCF_HOST}>"),
    }
}

#[allow(clippy::too_many_arguments)]
/// [`Builder::new_request`], shared by every builder (one copy of its code, not one per implementor).
fn new_request_dyn(
    this: &mut dyn Builder,
    method: &'static str,
    ruri: &str,
    from_node: Node,
    from: String,
    to: String,
    call_id: &str,
    cseq: u32,
) -> SipMessage {
    let ids = this.ids(from_node);
    let (b, code) = (ids.next(), ids.code);
    let mut m = SipMessage::request(method, ruri);
    m.push("Via", format!("SIP/2.0/TCP {};branch=z9hG4bK{code}{:x}{b:04x}", this.via_host(from_node), method.len()));
    m.push("Max-Forwards", "70");
    m.push("From", from);
    m.push("To", to);
    m.push("Call-ID", call_id);
    m.push("CSeq", format!("{cseq} {method}"));
    m
}

/// [`Builder::dialog_request`], shared by every builder (one copy of its code, not one per implementor).
fn dialog_request_dyn(this: &mut dyn Builder, method: &'static str, d: &mut Dialog, from_a: bool, from_node: Node, target: &str) -> SipMessage {
    let tagged = |uri: &str, tag: &str| if tag.is_empty() { format!("<{uri}>") } else { format!("<{uri}>;tag={tag}") };
    let (from, to, cseq) = if from_a {
        if method != "ACK" && method != "CANCEL" {
            d.a_cseq += 1;
        }
        (tagged(&d.a_uri, &d.a_tag), tagged(&d.b_uri, &d.b_tag), d.a_cseq)
    } else {
        d.b_cseq = if d.b_cseq == 0 { 1 } else { d.b_cseq + 1 };
        (tagged(&d.b_uri, &d.b_tag), tagged(&d.a_uri, &d.a_tag), d.b_cseq)
    };
    let call_id = d.call_id.clone();
    let mut m = new_request_dyn(this, method, target, from_node, from, to, &call_id, cseq);
    with_route(&mut m, &d.route);
    m
}

/// [`Builder::ack_or_cancel`], shared by every builder (one copy of its code, not one per implementor).
fn ack_or_cancel_dyn(this: &mut dyn Builder, method: &'static str, d: &Dialog, from_a: bool, from_node: Node, target: &str) -> SipMessage {
    let tagged = |uri: &str, tag: &str| if tag.is_empty() || method == "CANCEL" { format!("<{uri}>") } else { format!("<{uri}>;tag={tag}") };
    let (from, to, cseq) = if from_a {
        (format!("<{}>;tag={}", d.a_uri, d.a_tag), tagged(&d.b_uri, &d.b_tag), d.a_cseq)
    } else {
        (format!("<{}>;tag={}", d.b_uri, d.b_tag), tagged(&d.a_uri, &d.a_tag), d.b_cseq)
    };
    let call_id = d.call_id.clone();
    let mut m = new_request_dyn(this, method, target, from_node, from, to, &call_id, cseq);
    if method == "ACK" {
        // The ACK of a 2xx is a request of the dialog: it follows the route set (§13.2.2.4).
        with_route(&mut m, &d.route);
    }
    m
}

/// [`Builder::cpm_headers`], shared by every builder (one copy of its code, not one per implementor).
fn cpm_headers_dyn(this: &dyn Builder, m: &mut SipMessage, contact_of: Node) {
    cpm_headers_with_dyn(this, m, contact_dyn(this, contact_of));
}

/// [`Builder::cpm_headers_with`], shared by every builder (one copy of its code, not one per implementor).
fn cpm_headers_with_dyn(this: &dyn Builder, m: &mut SipMessage, contact: String) {
    m.push("Contact", contact);
    m.push("Accept-Contact", format!("*;{ICSI}"));
    m.push("P-Asserted-Service", "urn:urn-7:3gpp-service.ims.icsi.oma.cpm.session");
    m.push("Conversation-ID", CONVERSATION_ID);
    m.push("Contribution-ID", CONTRIBUTION_ID);
    m.push("Supported", "timer");
    m.push("Session-Expires", if this.policies().is(crate::policy::PolicyId::MsrpLossDetection, "session-refresh") { "180" } else { "1800" });
}

/// [`Builder::sdp`], shared by every builder (one copy of its code, not one per implementor).
fn sdp_dyn(this: &mut dyn Builder, by: Node, user: &str, ip: &str, port: u16, path: String, setup: &str) -> String {
    let session = this.ids(by).sdp_session();
    if !texts(this) {
        return String::new(); // only the wire text shows a body
    }
    MsrpSdp {
        username: user.into(),
        session_id: 3_845_123_000 + session,
        version: 3_845_123_000 + session,
        ip: ip.into(),
        port,
        accept_types: ACCEPT_TYPES.into(),
        accept_wrapped_types: WRAPPED.into(),
        path,
        setup: setup.into(),
    }
    .emit()
}

/// A transaction id that cannot collide with `body` (RFC 4975 §6: the end-line, seven `-`, the
/// transaction id and a flag, must not occur in the body; where it does, the sender picks an id
/// that does not occur in the body). Without seven `-` in a row no end-line can occur in the
/// body whatever the id, so the body is searched for the id only when it has them, and whether
/// it has them is remembered for the last body ([`dash_run_cached`]: the same chat message goes
/// out in four SENDs) or given by the body's writer ([`Builder::send_text_known`]): `at_risk`.
fn tid_dyn(this: &mut dyn Builder, by: Node, body: Option<&Arc<str>>, at_risk: bool) -> String {
    loop {
        let n = mix(this.ids(by).next_salted());
        let t = base36(n, 8);
        if !at_risk || !body.is_some_and(|b| b.contains(&t)) {
            return t;
        }
    }
}

thread_local! {
    /// The buffer [`World::cpim`] writes each document into before it is shared.
    static CPIM_BUF: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
    /// The body [`dash_run_cached`] looked at last and its answer. It holds the body itself, so
    /// no other text can be at that address while it is there: a body at the same address is the
    /// same text. One body, not more: a chat message's SENDs (fanned out, then stored and
    /// replayed) ask about it one after the other, and an IMDN's three hops carry their answer
    /// ([`Builder::send_text_known`]) instead of asking. Counted on the benchmark's scenario
    /// (docs/bench-engine.md): 416.60 M instructions with one, 417.09 M with 256 by address.
    static LAST_BODY: std::cell::RefCell<Option<(Arc<str>, bool)>> = const { std::cell::RefCell::new(None) };
}

/// Tells [`dash_run_cached`] the answer for `body` (its writer knows it from the parts).
fn remember_dash_run(body: &Arc<str>, dashes: bool) {
    LAST_BODY.with(|c| *c.borrow_mut() = Some((body.clone(), dashes)));
}

/// [`has_dash_run`], remembered for the body asked about last.
fn dash_run_cached(body: &Arc<str>) -> bool {
    LAST_BODY.with(|c| {
        let mut last = c.borrow_mut();
        match &*last {
            Some((b, v)) if Arc::ptr_eq(b, body) => *v,
            _ => {
                let v = has_dash_run(body);
                *last = Some((body.clone(), v));
                v
            }
        }
    })
}

/// [`Builder::send_text`], shared by every builder (one copy of its code, not one per implementor).
/// `body` comes with whether it has a dash run when its writer knows (else it is looked up).
fn send_text_dyn(this: &mut dyn Builder, by: Node, to_path: &str, from_path: &str, body: Option<(&Arc<str>, Option<bool>)>) -> (String, String) {
    if !texts(this) {
        this.ids(by).next();
        this.ids(by).next();
        return (String::new(), String::new());
    }
    let at_risk = body.is_some_and(|(b, known)| known.unwrap_or_else(|| dash_run_cached(b)));
    let body = body.map(|(b, _)| b);
    let tid = tid_dyn(this, by, body, at_risk);
    let n = this.ids(by).next_salted();
    let text = crate::wire::msrp::send_text(
        &tid,
        to_path,
        from_path,
        |o| {
            o.push('m');
            push_base36(o, mix(n ^ 0x5555), 10);
        },
        body.map(|b| ("message/cpim", &**b)),
    );
    (text, tid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn has_dash_run_finds_seven_dashes_anywhere() {
        // Every string of up to 12 bytes over {'-', 'a'}: the same answer as a plain search.
        for len in 0..=12u32 {
            for bits in 0..(1u32 << len) {
                let s: String = (0..len).map(|i| if bits >> i & 1 == 1 { '-' } else { 'a' }).collect();
                assert_eq!(has_dash_run(&s), s.contains("-------"), "{s:?}");
            }
        }
        let long = format!("{}-------x", "ab-".repeat(40));
        assert!(has_dash_run(&long));
        assert!(!has_dash_run(&"ab------".repeat(50)));
    }

    #[test]
    fn dash_run_cached_answers_per_body() {
        let (plain, dashes) = (Arc::<str>::from("no end-line here"), Arc::<str>::from("text\r\n-------k39fj2$\r\n"));
        for _ in 0..2 {
            assert!(!dash_run_cached(&plain));
            assert!(dash_run_cached(&dashes));
        }
        // Another body with the same text is looked at on its own.
        assert!(dash_run_cached(&Arc::from("-------")));
    }
}
