//! The built-in scenarios. They are the files in `scenarios/` (one folder, used by the tests, the
//! CLI and the web page); a test checks that this table and the folder agree.

/// A built-in scenario.
#[derive(Debug, Clone, Copy)]
pub struct Preset {
    /// Short name (the file name without `.json`).
    pub name: &'static str,
    /// One-line description (the file's `description`).
    pub description: &'static str,
    /// The scenario file.
    pub json: &'static str,
}

static PRESETS: [Preset; 16] = [
    Preset {
        name: "bye-480-path-a",
        description: "Case 1: BYE with Reason SIP;cause=480 defers; a 3rd-party REGISTER makes the PF invite Carol and replay the store.",
        json: include_str!("../scenarios/bye-480-path-a.json"),
    },
    Preset {
        name: "bye-480-path-b",
        description: "Case 1, then Carol re-joins before the PF reacts to the 3rd-party REGISTER: no PF INVITE, delivery over the re-join session.",
        json: include_str!("../scenarios/bye-480-path-b.json"),
    },
    Preset {
        name: "invite-timeout-path-a",
        description: "Case 2: the CF invites Carol while she is unreachable; Timer B fires and the PF joins for her; a REGISTER starts path A.",
        json: include_str!("../scenarios/invite-timeout-path-a.json"),
    },
    Preset {
        name: "invite-timeout-path-b",
        description: "Case 2, then Carol's re-join reaches the PF before it reacts to the 3rd-party REGISTER.",
        json: include_str!("../scenarios/invite-timeout-path-b.json"),
    },
    Preset {
        name: "msrp-loss-path-a",
        description: "Case 3: the TCP connection carrying MSRP breaks; the PF defers, and a REGISTER starts path A.",
        json: include_str!("../scenarios/msrp-loss-path-a.json"),
    },
    Preset {
        name: "msrp-loss-path-b",
        description: "Case 3, then Carol's client re-joins the group session itself.",
        json: include_str!("../scenarios/msrp-loss-path-b.json"),
    },
    Preset {
        name: "race-rejoin-after-invite",
        description: "The re-join arrives after the PF reacted to the REGISTER (Q1, not in the CR): the PF cancels its own INVITE by default.",
        json: include_str!("../scenarios/race-rejoin-after-invite.json"),
    },
    Preset {
        name: "voluntary-leave",
        description: "Carol leaves on purpose: the PF leaves the group and stores nothing.",
        json: include_str!("../scenarios/voluntary-leave.json"),
    },
    Preset {
        name: "bye-without-reason",
        description: "The literal rule reads a bare BYE as a voluntary leave, so nothing is stored (switch Q6 to broad to defer).",
        json: include_str!("../scenarios/bye-without-reason.json"),
    },
    Preset {
        name: "q850-reason",
        description: "Reason Q.850;cause=41 is a failure, but not protocol SIP: the literal rule does not defer (Q6).",
        json: include_str!("../scenarios/q850-reason.json"),
    },
    Preset {
        name: "roster-change-while-away",
        description: "Dave joins and Alice leaves while Carol is deferred; the PF's subscription keeps the roster and delivers it with the messages.",
        json: include_str!("../scenarios/roster-change-while-away.json"),
    },
    Preset {
        name: "group-ends-while-away",
        description: "The CF ends the group while Carol is deferred; by default (Q8) the PF delivers the backlog when she returns, then closes.",
        json: include_str!("../scenarios/group-ends-while-away.json"),
    },
    Preset {
        name: "showcase-invite-timeout",
        description: "The CF invites unreachable Carol; after the CR the PF stores for her (0 lost), before it the messages are lost.",
        json: include_str!("../scenarios/showcase-invite-timeout.json"),
    },
    Preset {
        name: "full-setup-then-drop",
        description: "Carol creates the group (INVITE to the conference factory, members invited, MSRP bound), then drops with Reason SIP;cause=503.",
        json: include_str!("../scenarios/full-setup-then-drop.json"),
    },
    Preset {
        name: "silent-drop-send-timeout",
        description: "Carol's device vanishes without BYE; the PF notices only when a SEND gets no response in 30 s (Editor's Note detector).",
        json: include_str!("../scenarios/silent-drop-send-timeout.json"),
    },
    Preset {
        name: "msrp-setup-fails",
        description: "Case 3 at set-up: the first delivery session cannot open MSRP, so the PF stays deferred until the next REGISTER.",
        json: include_str!("../scenarios/msrp-setup-fails.json"),
    },
];

/// All presets, in display order.
pub fn all() -> &'static [Preset] {
    &PRESETS
}

/// The preset called `name`.
pub fn find(name: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.name == name)
}
