//! Reading events the way the catalog says: newest first, counted, and a
//! later success of the same flow superseding an older failure.

use crate::api::Event;
use jiff::Timestamp;

/// The last moment an event was seen: the newest of its series, last, event
/// and first timestamps (different components fill different ones).
pub fn last_seen(e: &Event) -> Option<Timestamp> {
    [
        e.series
            .as_ref()
            .and_then(|s| s.last_observed_time.as_ref())
            .map(|t| t.0),
        e.last_timestamp.as_ref().map(|t| t.0),
        e.event_time.as_ref().map(|t| t.0),
        e.first_timestamp.as_ref().map(|t| t.0),
        e.metadata.creation_timestamp.as_ref().map(|t| t.0),
    ]
    .into_iter()
    .flatten()
    .max()
}

/// How many times the event was seen.
pub fn count(e: &Event) -> i32 {
    e.series
        .as_ref()
        .and_then(|s| s.count)
        .or(e.count)
        .unwrap_or(1)
        .max(1)
}

pub fn reason(e: &Event) -> &str {
    e.reason.as_deref().unwrap_or("")
}

pub fn message(e: &Event) -> &str {
    e.message.as_deref().unwrap_or("").trim()
}

pub fn is_warning(e: &Event) -> bool {
    e.type_.as_deref() == Some("Warning")
}

/// Who posted the event (`persistentvolume-controller`, a CSI provisioner ...).
pub fn reporter(e: &Event) -> &str {
    e.reporting_component
        .as_deref()
        .filter(|s| !s.is_empty())
        .or_else(|| e.source.as_ref().and_then(|s| s.component.as_deref()))
        .unwrap_or("")
}

/// Failure reasons and the success reasons that end them, per flow.
const FLOWS: &[(&[&str], &[&str])] = &[
    (
        &["ProvisioningFailed", "ExternalProvisioning", "Provisioning"],
        &["ProvisioningSucceeded"],
    ),
    (&["FailedBinding"], &["ProvisioningSucceeded"]),
    (
        &["FailedAttachVolume"],
        &["SuccessfulAttachVolume", "SuccessfulMountVolume"],
    ),
    (
        &["FailedMount", "FailedMapVolume"],
        &["SuccessfulMountVolume"],
    ),
    (&["FailedScheduling"], &["Scheduled"]),
    (&["FailedCreate"], &["SuccessfulCreate"]),
    (
        &["VolumeResizeFailed", "ExternalExpanding"],
        &["VolumeResizeSuccessful", "FileSystemResizeSuccessful"],
    ),
];

/// A Normal event the diagnosis reads (every Warning event is read): a
/// reason, the kind of object it is about, or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct NormalEvent {
    about: Option<&'static str>,
    reason: Option<&'static str>,
}

impl NormalEvent {
    /// Events of this reason about claims.
    pub const fn about_claims(reason: &'static str) -> Self {
        Self::about(CLAIM, reason)
    }

    /// Events of this reason about objects of this kind.
    pub const fn about(kind: &'static str, reason: &'static str) -> Self {
        NormalEvent {
            about: Some(kind),
            reason: Some(reason),
        }
    }

    /// Events of this reason, whatever they are about.
    pub const fn any(reason: &'static str) -> Self {
        NormalEvent {
            about: None,
            reason: Some(reason),
        }
    }

    /// Every Normal event about objects of this kind.
    pub const fn all_about(kind: &'static str) -> Self {
        NormalEvent {
            about: Some(kind),
            reason: None,
        }
    }

    pub fn reason(&self) -> Option<&'static str> {
        self.reason
    }

    fn matches(&self, e: &Event) -> bool {
        self.about
            .is_none_or(|k| e.involved_object.kind.as_deref() == Some(k))
            && self.reason.is_none_or(|r| reason(e) == r)
    }
}

const CLAIM: &str = "PersistentVolumeClaim";

/// Normal reasons posted for each step of a container's and a pod's life,
/// each node heartbeat and each rollout: most of a cluster's events, and
/// never read by a rule. The server leaves them out of its answer.
const LIFECYCLE_NOISE: &[&str] = &[
    "Pulling",
    "Pulled",
    "Created",
    "Started",
    "Killing",
    "SandboxChanged",
    "ScalingReplicaSet",
    "SuccessfulDelete",
    "Completed",
    "SawCompletedJob",
    "LeaderElection",
    "Starting",
    "RegisteredNode",
    "NodeHasSufficientMemory",
    "NodeHasNoDiskPressure",
    "NodeHasSufficientPID",
    "NodeAllocatableEnforced",
];

/// The Normal events that end a failure's flow ([`Timeline::current`]):
/// without them an old failure would read as current.
pub const FLOW_ENDINGS: &[NormalEvent] = &[
    NormalEvent::about_claims("ProvisioningSucceeded"),
    NormalEvent::about_claims("VolumeResizeSuccessful"),
    NormalEvent::any("FileSystemResizeSuccessful"),
    NormalEvent::about("Pod", "SuccessfulAttachVolume"),
    NormalEvent::about("Pod", "SuccessfulMountVolume"),
    NormalEvent::about("Pod", "Scheduled"),
    NormalEvent::any("SuccessfulCreate"),
];

/// Which events a diagnosis keeps: every Warning, and the Normal events
/// the rules read. Live reads ask the API server for just these
/// ([`EventFilter::field_selector`]); captures go through the same
/// filter, so both give the same findings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    wanted: Vec<NormalEvent>,
}

impl EventFilter {
    pub fn new(wanted: impl IntoIterator<Item = NormalEvent>) -> Self {
        let mut wanted: Vec<NormalEvent> = wanted.into_iter().collect();
        wanted.sort_unstable();
        wanted.dedup();
        EventFilter { wanted }
    }

    /// An event without a type is Normal, as kubectl shows it. The
    /// lifecycle noise is left out whatever its type: the API server has
    /// no "or" in a field selector, and every emitter posts these reasons
    /// as Normal.
    pub fn keeps(&self, e: &Event) -> bool {
        !self.is_noise(reason(e)) && (is_warning(e) || self.wanted.iter().any(|w| w.matches(e)))
    }

    fn is_noise(&self, reason: &str) -> bool {
        LIFECYCLE_NOISE.contains(&reason) && !self.wanted.iter().any(|w| w.reason == Some(reason))
    }

    /// The field selector of the one event LIST that reads what the
    /// filter keeps: every event but the lifecycle noise no rule reads.
    /// One LIST, not one per type or reason: the API server keeps no
    /// watch cache of events, so every event LIST, however selective,
    /// reads and decodes all the events in etcd. What it returns beyond
    /// the filter is dropped after reading.
    pub fn field_selector(&self) -> String {
        LIFECYCLE_NOISE
            .iter()
            .filter(|r| self.is_noise(r))
            .map(|r| format!("reason!={r}"))
            .collect::<Vec<_>>()
            .join(",")
    }
}

fn success_reasons(failure: &str) -> &'static [&'static str] {
    FLOWS
        .iter()
        .find(|(fails, _)| fails.contains(&failure))
        .map(|(_, ok)| *ok)
        .unwrap_or(&[])
}

/// The events about one object, newest first.
#[derive(Debug, Clone, Copy, Default)]
pub struct Timeline<'a> {
    events: &'a [&'a Event],
}

impl<'a> Timeline<'a> {
    pub fn new(events: &'a [&'a Event]) -> Self {
        Timeline { events }
    }

    pub fn all(&self) -> &'a [&'a Event] {
        self.events
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// The newest event with this reason.
    pub fn latest(&self, reason: &str) -> Option<&'a Event> {
        self.events
            .iter()
            .copied()
            .find(|e| self::reason(e) == reason)
    }

    /// The newest event with this reason, unless a success of the same flow
    /// came after it.
    pub fn current(&self, reason: &str) -> Option<&'a Event> {
        let ok = success_reasons(reason);
        for e in self.events.iter().copied() {
            let r = self::reason(e);
            if ok.contains(&r) {
                return None;
            }
            if r == reason {
                return Some(e);
            }
        }
        None
    }

    /// Events with this reason that are still current, newest first.
    pub fn current_all(&self, reason: &'a str) -> impl Iterator<Item = &'a Event> + 'a {
        let ok = success_reasons(reason);
        self.events
            .iter()
            .copied()
            .take_while(move |e| !ok.contains(&self::reason(e)))
            .filter(move |e| self::reason(e) == reason)
    }
}

/// One line of evidence quoting an event: `Warning ProvisioningFailed (×3, 2m ago, by x): msg`.
pub fn quote(e: &Event, now: Timestamp) -> String {
    let mut meta = Vec::new();
    let n = count(e);
    if n > 1 {
        meta.push(format!("×{n}"));
    }
    if let Some(t) = last_seen(e) {
        meta.push(format!("{} ago", crate::model::age(t, now)));
    }
    let by = reporter(e);
    if !by.is_empty() {
        meta.push(format!("by {by}"));
    }
    let kind = e.type_.as_deref().unwrap_or("Normal");
    let meta = if meta.is_empty() {
        String::new()
    } else {
        format!(" ({})", meta.join(", "))
    };
    format!("event {kind} {}{meta}: {}", reason(e), bounded(message(e)))
}

/// Messages longer than this are cut in evidence: a runaway controller can
/// post megabytes.
const MESSAGE_LIMIT: usize = 2000;

fn bounded(text: &str) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(MESSAGE_LIMIT) {
        None => text.into(),
        Some((cut, _)) => format!(
            "{}… ({} more characters)",
            &text[..cut],
            text[cut..].chars().count()
        )
        .into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{event, EventExt};

    #[test]
    fn newest_first_uses_the_latest_of_all_timestamps() {
        let old = event("ProvisioningFailed", "boom").at("2026-01-01T10:00:00Z");
        let series = event("ProvisioningFailed", "boom").series_at("2026-01-01T12:00:00Z");
        assert!(last_seen(&series) > last_seen(&old));
    }

    #[test]
    fn later_success_supersedes_failure() {
        let fail = event("ProvisioningFailed", "boom")
            .warning()
            .at("2026-01-01T10:00:00Z");
        let ok = event("ProvisioningSucceeded", "done").at("2026-01-01T10:05:00Z");
        let list = [&ok, &fail];
        let timeline = Timeline::new(&list);
        assert!(timeline.current("ProvisioningFailed").is_none());
        assert!(timeline.latest("ProvisioningFailed").is_some());
    }

    #[test]
    fn failure_after_success_is_current() {
        let ok = event("ProvisioningSucceeded", "done").at("2026-01-01T10:00:00Z");
        let fail = event("ProvisioningFailed", "boom")
            .warning()
            .at("2026-01-01T10:05:00Z");
        let list = [&fail, &ok];
        assert!(Timeline::new(&list).current("ProvisioningFailed").is_some());
    }

    #[test]
    fn the_filter_keeps_warnings_and_the_normal_events_read_but_the_noise() {
        let filter = EventFilter::new([
            NormalEvent::about_claims("ExternalProvisioning"),
            NormalEvent::about("Pod", "Scheduled"),
            NormalEvent::any("SuccessfulCreate"),
            NormalEvent::all_about("VolumeSnapshot"),
            NormalEvent::about_claims("WaitForFirstConsumer"),
        ]);
        let claim = |e: Event| e.about("PersistentVolumeClaim", "default", "data");
        let pod = |e: Event| e.about("Pod", "default", "web-0");
        assert!(filter.keeps(&pod(event("FailedMount", "timed out").warning())));
        assert!(filter.keeps(&pod(event("BackOff", "restarting").warning())));
        assert!(!filter.keeps(&pod(event("Pulled", "image pulled"))));
        assert!(filter.keeps(&pod(event("Scheduled", "assigned"))));
        assert!(filter.keeps(&claim(event("ExternalProvisioning", "waiting"))));
        assert!(!filter.keeps(&pod(event("ExternalProvisioning", "waiting"))));
        assert!(!filter.keeps(&claim(event("Resizing", "started"))));
        assert!(filter.keeps(&event("SuccessfulCreate", "created").about(
            "ReplicaSet",
            "default",
            "web"
        )));
        assert!(filter.keeps(&event("SnapshotCreated", "cut").about(
            "VolumeSnapshot",
            "default",
            "nightly"
        )));
        // One request: every event but the noise, a Warning of a noisy
        // reason included, so a capture keeps what a live read gets.
        let selector = filter.field_selector();
        assert!(selector.starts_with("reason!=Pulling,"), "{selector}");
        assert!(!filter.keeps(&pod(event("Pulled", "pulled").warning())));
        // A rule that reads a noisy reason gets it.
        let killing = EventFilter::new([NormalEvent::about("Pod", "Killing")]);
        assert!(!killing.field_selector().contains("Killing"));
        assert!(selector.contains("reason!=Killing"));
    }

    #[test]
    fn huge_messages_are_cut() {
        let e = event("FailedMount", &"é".repeat(1_000_000));
        let q = quote(&e, jiff::Timestamp::UNIX_EPOCH);
        assert!(q.chars().count() < 2100, "{}", q.len());
        assert!(
            q.ends_with("(998000 more characters)"),
            "{}",
            &q[q.len() - 40..]
        );
    }

    #[test]
    fn count_prefers_series() {
        let e = EventExt::count(event("FailedMount", "x"), 4);
        assert_eq!(count(&e), 4);
    }
}
