//! Arbitrary text in every message field the rules read (event messages,
//! pod, claim and volume conditions and statuses, attach errors, container
//! waiting messages) of the captured scenarios: the first byte picks the
//! scenario, the lines of the rest are the messages, dealt out in turn.
//! The rules' text parsing runs in place, then the whole report renders.

#![no_main]

use kubectl_storage_doctor::rules::mount_failed;
use kubectl_storage_doctor::volume_errors;
use kubectl_storage_doctor::rules::support::{names, provisioner_errors};
use kubectl_storage_doctor::snapshot::{Objects, Snapshot};
use kubectl_storage_doctor_fuzz::bases;
use libfuzzer_sys::fuzz_target;

/// Replaces every message the rules read with the next of `messages`.
fn set_messages(o: &mut Objects, messages: &mut impl Iterator<Item = String>) {
    let mut next = || messages.next();
    for e in &mut o.events {
        e.message = next();
    }
    for p in &mut o.pods {
        let Some(status) = p.status.as_mut() else {
            continue;
        };
        status.message = next();
        for c in status.conditions.iter_mut().flatten() {
            c.message = next();
        }
        let containers = status.container_statuses.iter_mut().flatten();
        let init = status.init_container_statuses.iter_mut().flatten();
        for c in containers.chain(init) {
            if let Some(w) = c.state.as_mut().and_then(|s| s.waiting.as_mut()) {
                w.message = next();
            }
            // What the container says of its volumes: the last termination.
            let terminated = [c.state.as_mut(), c.last_state.as_mut()]
                .into_iter()
                .flatten()
                .filter_map(|s| s.terminated.as_mut());
            for t in terminated {
                t.message = next();
            }
        }
    }
    for c in &mut o.claims {
        let conditions = c.status.as_mut().and_then(|s| s.conditions.as_mut());
        for cond in conditions.into_iter().flatten() {
            cond.message = next();
        }
    }
    for v in &mut o.volumes {
        if let Some(status) = v.status.as_mut() {
            status.message = next();
        }
    }
    for va in &mut o.attachments {
        if let Some(status) = va.status.as_mut() {
            for error in [&mut status.attach_error, &mut status.detach_error]
                .into_iter()
                .flatten()
            {
                error.message = next();
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let lines: Vec<&str> = text.split('\n').collect();
    for line in &lines {
        provisioner_errors::classify(line);
        provisioner_errors::brief(provisioner_errors::underlying(line));
        provisioner_errors::short_name(line);
        mount_failed::classify(line);
        volume_errors::fs_errors(line);
        volume_errors::paths(line);
        volume_errors::named_volume(line);
        volume_errors::listed_volumes(line, "unmounted volumes");
        volume_errors::missing_source(line);
        volume_errors::subpath_failure(line);
    }
    // Typo suggestions compare one name with the names around it; all
    // pairs of lines would be quadratic in the input.
    names::closest(lines[0], lines[1..].iter().copied().take(16));
    let bases = bases();
    let base = &bases[usize::from(pick) % bases.len()];
    let mut objects = base.objects.clone();
    set_messages(
        &mut objects,
        &mut lines.iter().map(|l| l.to_string()).cycle(),
    );
    let snap = Snapshot::new(objects, base.gaps.clone(), Some(base.now));
    kubectl_storage_doctor_fuzz::diagnose_and_render(&snap);
});
