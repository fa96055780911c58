//! `application/conference-info+xml` documents (RFC 4575 §5): the participant information the
//! PF obtains from the focus (CPM §8.2.2.6.2) and delivers with the stored messages (§8.3.2.9).

use super::xml::{self, escape_into};
use super::WireError;

/// One `<user>` with its single `<endpoint>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfUser {
    /// `entity` (the user's URI).
    pub entity: String,
    /// `<display-text>`.
    pub display_text: String,
    /// `<endpoint><status>`: connected, disconnected, pending, alerting …
    pub status: String,
    /// `<joining-method>` (dialed-in, dialed-out).
    pub joining_method: Option<String>,
    /// `<disconnection-method>` (departed, booted, failed, busy).
    pub disconnection_method: Option<String>,
    /// `<disconnection-info><when>`.
    pub disconnected_when: Option<String>,
}

/// A conference-info document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConferenceInfo {
    /// The conference URI (the group session identity).
    pub entity: String,
    /// `full`, `partial` or `deleted`.
    pub state: String,
    /// Monotonic version (RFC 4575 §5.1).
    pub version: u32,
    /// `<conference-description><subject>`.
    pub subject: String,
    /// Users.
    pub users: Vec<ConfUser>,
}

impl ConferenceInfo {
    /// Number of users whose status is `connected` (the `<user-count>` element).
    pub fn user_count(&self) -> usize {
        self.users.iter().filter(|u| u.status == "connected").count()
    }

    /// The exact XML text.
    pub fn emit(&self) -> String {
        let mut o = String::with_capacity(512 + self.users.len() * 256);
        o.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<conference-info xmlns=\"urn:ietf:params:xml:ns:conference-info\" entity=\"");
        escape_into(&mut o, &self.entity);
        o.push_str("\" state=\"");
        escape_into(&mut o, &self.state);
        o.push_str(&format!("\" version=\"{}\">\r\n  <conference-description>\r\n    <subject>", self.version));
        escape_into(&mut o, &self.subject);
        o.push_str(&format!(
            "</subject>\r\n  </conference-description>\r\n  <conference-state>\r\n    <user-count>{}</user-count>\r\n  </conference-state>\r\n  <users>\r\n",
            self.user_count()
        ));
        for u in &self.users {
            o.push_str("    <user entity=\"");
            escape_into(&mut o, &u.entity);
            o.push_str("\" state=\"full\">\r\n      <display-text>");
            escape_into(&mut o, &u.display_text);
            o.push_str("</display-text>\r\n      <endpoint entity=\"");
            escape_into(&mut o, &u.entity);
            o.push_str("\">\r\n        <status>");
            escape_into(&mut o, &u.status);
            o.push_str("</status>\r\n");
            if let Some(j) = &u.joining_method {
                o.push_str("        <joining-method>");
                escape_into(&mut o, j);
                o.push_str("</joining-method>\r\n");
            }
            if let Some(d) = &u.disconnection_method {
                o.push_str("        <disconnection-method>");
                escape_into(&mut o, d);
                o.push_str("</disconnection-method>\r\n");
            }
            if let Some(w) = &u.disconnected_when {
                o.push_str("        <disconnection-info>\r\n          <when>");
                escape_into(&mut o, w);
                o.push_str("</when>\r\n        </disconnection-info>\r\n");
            }
            o.push_str("      </endpoint>\r\n    </user>\r\n");
        }
        o.push_str("  </users>\r\n</conference-info>\r\n");
        o
    }

    /// Parses a document; the inverse of [`ConferenceInfo::emit`].
    pub fn parse(text: &str) -> Result<Self, WireError> {
        let root = xml::parse(text)?;
        let missing = |what: &str| WireError::Xml(format!("missing {what}"));
        if root.name != "conference-info" || root.attr("xmlns") != Some("urn:ietf:params:xml:ns:conference-info") {
            return Err(WireError::Xml("root must be <conference-info> in urn:ietf:params:xml:ns:conference-info".into()));
        }
        let version = root.attr("version").ok_or_else(|| missing("version"))?;
        let mut ci = ConferenceInfo {
            entity: root.attr("entity").ok_or_else(|| missing("entity"))?.to_string(),
            state: root.attr("state").unwrap_or("full").to_string(),
            version: version.parse().map_err(|_| WireError::Xml(format!("version {version:?} is not a number")))?,
            subject: root.child("conference-description").and_then(|d| d.child("subject")).map(|s| s.text.clone()).unwrap_or_default(),
            users: Vec::new(),
        };
        if let Some(users) = root.child("users") {
            for u in users.children.iter().filter(|c| c.name == "user") {
                let ep = u.child("endpoint");
                let txt = |e: Option<&xml::Element>, n: &str| e.and_then(|e| e.child(n)).map(|c| c.text.clone());
                ci.users.push(ConfUser {
                    entity: u.attr("entity").ok_or_else(|| missing("user entity"))?.to_string(),
                    display_text: txt(Some(u), "display-text").unwrap_or_default(),
                    status: txt(ep, "status").unwrap_or_default(),
                    joining_method: txt(ep, "joining-method"),
                    disconnection_method: txt(ep, "disconnection-method"),
                    disconnected_when: ep.and_then(|e| e.child("disconnection-info")).and_then(|d| d.child("when")).map(|w| w.text.clone()),
                });
            }
        }
        Ok(ci)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ConferenceInfo {
        ConferenceInfo {
            entity: "sip:chat-7f3a9c@cf.cpm.example.net".into(),
            state: "full".into(),
            version: 5,
            subject: "Friday <planning> & \"more\"".into(),
            users: vec![
                ConfUser {
                    entity: "sip:alice@ims.example.net".into(),
                    display_text: "Alice <script>alert(1)</script>".into(),
                    status: "connected".into(),
                    joining_method: Some("dialed-in".into()),
                    disconnection_method: None,
                    disconnected_when: None,
                },
                ConfUser {
                    entity: "sip:dave@ims.example.net".into(),
                    display_text: "Dave".into(),
                    status: "disconnected".into(),
                    joining_method: None,
                    disconnection_method: Some("departed".into()),
                    disconnected_when: Some("2024-05-14T09:20:11.000Z".into()),
                },
            ],
        }
    }

    #[test]
    fn round_trips_and_escapes() {
        let t = sample().emit();
        assert!(t.contains("&lt;script&gt;"));
        assert!(t.contains("<user-count>1</user-count>"));
        assert_eq!(ConferenceInfo::parse(&t).unwrap(), sample());
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "",
            "<conference-info>",
            "<a xmlns=\"urn:ietf:params:xml:ns:conference-info\" entity=\"x\" version=\"1\"></a>",
            "<conference-info xmlns=\"urn:ietf:params:xml:ns:conference-info\" entity=\"x\" version=\"v\"/>",
            "<conference-info xmlns=\"urn:ietf:params:xml:ns:conference-info\" entity=\"&bogus;\" version=\"1\"/>",
        ] {
            assert!(ConferenceInfo::parse(bad).is_err(), "{bad}");
        }
        let deep = "<a>".repeat(100);
        assert!(xml::parse(&deep).is_err());
    }
}
