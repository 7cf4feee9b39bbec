//! The mechanics of reading the cluster: LISTs (from the watch cache,
//! paginated, falling back to a consistent read), GETs, and what a read
//! gave. [`super::scan`] and [`super::target`] say what to read.

pub(super) use super::page::Mentions;
use super::page::{read_page, Wanted};
use super::protobuf::{self, Wire};
use super::{Connection, LiveError};
use crate::api::Event;
use crate::events::EventFilter;
use crate::kinds::Stored;
use crate::snapshot::{Gap, Snapshot};
use crate::source::dump::Keep;
use crate::source::wire::is_protobuf;
use futures::TryStreamExt;
use http_body_util::BodyExt;
use k8s_openapi::NamespaceResourceScope;
use kube::api::{Api, ListParams};
use kube::Resource;
use serde::de::DeserializeOwned;
use std::fmt::Debug;
use tokio_util::compat::FuturesAsyncReadCompatExt;
use tokio_util::io::SyncIoBridge;

/// Page size of every LIST: large enough for few round trips, small enough
/// not to load the API server.
const PAGE: u32 = 500;

/// Where the first page of a LIST is asked for.
#[derive(Clone, Copy)]
enum From {
    /// The API server's watch cache: the whole list in one response.
    Cache,
    /// etcd, consistently, in pages of this many objects.
    Etcd(u32),
    /// etcd, consistently, the whole list in one response. The API server
    /// keeps no watch cache of events: an event LIST is read from etcd and
    /// field-selected after decoding, and each further page is one more
    /// read of etcd at the first page's revision. The 20 MB kept of the
    /// 52,000 events of a large cluster took 1.6–1.9 s in pages of 5,000
    /// and 0.6–0.9 s in one response, which the API server holds whole.
    Whole,
}

/// What a scan reads: every namespace, or one.
#[derive(Debug, Clone)]
pub struct ScanScope {
    pub namespace: Option<String>,
    /// `-l`: applies to pods (claims are filtered after reading).
    pub selector: Option<String>,
}

/// The result of reading the cluster.
pub struct Collected {
    pub snapshot: Snapshot,
    pub server_version: Option<String>,
}

pub(super) enum Outcome<T> {
    Items(Vec<T>),
    Gap(Gap),
}

fn gap_of(resource: &str, err: &kube::Error) -> Option<Gap> {
    let kube::Error::Api(status) = err else {
        return None;
    };
    let reason = match status.code {
        403 => "Forbidden",
        404 => "NotFound",
        401 => return None,
        _ => {
            if status.reason.is_empty() {
                "Error"
            } else {
                status.reason.as_str()
            }
        }
    };
    Some(Gap {
        resource: resource.to_string(),
        reason: reason.to_string(),
        message: status.message.clone(),
    })
}

/// An error answer as kube's error, its Status read from JSON or, when
/// protobuf was asked for, from protobuf.
async fn api_errors(
    response: http::Response<kube::client::Body>,
) -> kube::Result<http::Response<kube::client::Body>> {
    let code = response.status();
    if !(code.is_client_error() || code.is_server_error()) {
        return Ok(response);
    }
    let in_protobuf = is_protobuf(response.headers());
    let body: Vec<u8> = response
        .into_body()
        .into_data_stream()
        .try_fold(Vec::new(), |mut body, chunk| async move {
            body.extend_from_slice(&chunk);
            Ok(body)
        })
        .await?;
    let status = if in_protobuf {
        protobuf::status(&body)
    } else {
        serde_json::from_slice::<kube::core::Status>(&body).ok()
    };
    // Not every error answer is a Status: a proxy may answer in text.
    let status = status.unwrap_or_else(|| {
        kube::core::Status::failure(
            String::from_utf8_lossy(&body).trim(),
            "Failed to parse error data",
        )
        .with_code(code.as_u16())
    });
    Err(kube::Error::Api(status.boxed()))
}

/// Why the pages of a LIST stopped.
enum PageError {
    /// The API server answered with an error status.
    Api(kube::Error),
    /// The cluster is out of reach: the read cannot go on.
    Fatal(LiveError),
}

impl Connection {
    /// Every page of one LIST; a gap for an API error the diagnosis can
    /// live without, an error for anything that means the cluster is out of
    /// reach. Served from the API server's watch cache (`resourceVersion=0`:
    /// no quorum read from etcd, and one response where the cache ignores
    /// `limit`) unless `--consistent`; a server that refuses that is asked
    /// again for a consistent, paginated read.
    pub(super) async fn list<K>(
        &self,
        api: Api<K>,
        params: ListParams,
    ) -> Result<Outcome<K>, LiveError>
    where
        K: Stored + Wire + Resource + Clone + DeserializeOwned + Debug + Send + 'static,
    {
        self.list_where(api, params, &Mentions::Any).await
    }

    /// [`Self::list`], keeping only the objects whose JSON mentions one of
    /// `wanted`: the others are never parsed.
    pub(super) async fn list_where<K>(
        &self,
        api: Api<K>,
        params: ListParams,
        wanted: &Mentions,
    ) -> Result<Outcome<K>, LiveError>
    where
        K: Stored + Wire + Resource + Clone + DeserializeOwned + Debug + Send + 'static,
    {
        let read = if self.consistent {
            self.pages(&api, &params, From::Etcd(PAGE), wanted).await
        } else {
            match self.pages(&api, &params, From::Cache, wanted).await {
                Err(PageError::Api(kube::Error::Api(status)))
                    if !matches!(status.code, 401 | 403 | 404) =>
                {
                    if let Some(log) = &self.log {
                        log.note(format_args!(
                            "{}: the watch cache was refused ({} {}): reading consistently",
                            K::KIND.resource,
                            status.code,
                            status.reason
                        ));
                    }
                    self.pages(&api, &params, From::Etcd(PAGE), wanted).await
                }
                other => other,
            }
        };
        self.outcome(read)
    }

    /// Every page of a LIST of a kind the API server does not cache.
    async fn uncached<K>(&self, api: Api<K>, params: ListParams) -> Result<Outcome<K>, LiveError>
    where
        K: Stored + Wire + Resource + Clone + DeserializeOwned + Debug + Send + 'static,
    {
        let read = self.pages(&api, &params, From::Whole, &Mentions::Any).await;
        self.outcome(read)
    }

    /// The items read, a gap, or the error that ends the read.
    fn outcome<K: Stored>(&self, read: Result<Vec<K>, PageError>) -> Result<Outcome<K>, LiveError> {
        match read {
            Ok(items) => Ok(Outcome::Items(items)),
            Err(PageError::Fatal(e)) => Err(e),
            Err(PageError::Api(e)) => match gap_of(K::KIND.resource, &e) {
                Some(gap) => Ok(Outcome::Gap(gap)),
                None => Err(self.fatal(e)),
            },
        }
    }

    /// The pages of one LIST.
    async fn pages<K>(
        &self,
        api: &Api<K>,
        params: &ListParams,
        from: From,
        wanted: &Mentions,
    ) -> Result<Vec<K>, PageError>
    where
        K: Stored + Wire + Resource + Clone + DeserializeOwned + Debug + Send + 'static,
    {
        let mut items = Vec::new();
        let mut token: Option<String> = None;
        let mut restarted = false;
        let page = match from {
            From::Cache | From::Whole => PAGE,
            From::Etcd(n) => n,
        };
        loop {
            let page_params = match &token {
                // A continue token carries its own resource version.
                Some(t) => ListParams {
                    resource_version: None,
                    version_match: None,
                    ..params.clone()
                }
                .continue_token(t)
                .limit(page),
                // The whole list in one response: the cache does not page
                // (and kube sends no `resourceVersion=0` with a `limit`).
                None => match from {
                    From::Cache => params.clone().match_any(),
                    From::Etcd(n) => params.clone().limit(n),
                    From::Whole => params.clone(),
                },
            };
            let page = match tokio::time::timeout(
                self.request_timeout,
                self.list_page::<K>(api, &page_params, wanted),
            )
            .await
            {
                Err(_) => {
                    return Err(PageError::Fatal(LiveError::Timeout {
                        server: self.server.clone(),
                        after: self.request_timeout,
                    }))
                }
                // The continue token expired (410) while paging a large
                // list: read the list again from the start, once.
                Ok(Err(kube::Error::Api(status)))
                    if status.code == 410 && token.is_some() && !restarted =>
                {
                    restarted = true;
                    token = None;
                    items.clear();
                    continue;
                }
                Ok(Err(e @ kube::Error::Api(_))) => return Err(PageError::Api(e)),
                Ok(Err(e)) => return Err(PageError::Fatal(self.fatal(e))),
                Ok(Ok(page)) => page,
            };
            let (found, continue_token) = page;
            // A page moved, not copied: the first is most often the only one.
            if items.is_empty() {
                items = found;
            } else {
                items.extend(found);
            }
            match continue_token {
                Some(t) if !t.is_empty() => token = Some(t),
                _ => break,
            }
        }
        // Up to half of a list grown by doubling is spare room.
        items.shrink_to_fit();
        Ok(items)
    }

    /// One page of a LIST, and its continue token, parsed as it arrives on
    /// a thread of its own: the connection goes on reading the other
    /// answers meanwhile, and the page's text is never held whole. The
    /// kinds read in protobuf ask for it for a diagnosis; `collect` reads
    /// JSON, which carries fields newer than Kubernetes' protobuf types.
    async fn list_page<K>(
        &self,
        api: &Api<K>,
        params: &ListParams,
        wanted: &Mentions,
    ) -> kube::Result<(Vec<K>, Option<String>)>
    where
        K: Wire + Resource + DeserializeOwned + Send + 'static,
    {
        let mut request = kube::core::Request::new(api.resource_url())
            .list(params)
            .map_err(kube::Error::BuildRequest)?;
        let protobuf = K::PROTOBUF.is_some()
            && self.keep == Keep::Diagnosis
            && matches!(wanted, Mentions::Any);
        if protobuf {
            request.headers_mut().insert(
                http::header::ACCEPT,
                http::HeaderValue::from_static(protobuf::ACCEPT),
            );
        }
        let response = self
            .client
            .send(request.map(kube::client::Body::from))
            .await?;
        let response = api_errors(response).await?;
        let in_protobuf = is_protobuf(response.headers());
        let body = response
            .into_body()
            .into_data_stream()
            .map_err(std::io::Error::other)
            .into_async_read();
        let wanted = Wanted {
            mentions: wanted.clone(),
            keep: self.keep,
        };
        let reader = SyncIoBridge::new(body.compat());
        tokio::task::spawn_blocking(move || {
            if in_protobuf {
                protobuf::read_page(reader, wanted.keep)
            } else {
                read_page(reader, &wanted)
            }
        })
        .await
        .map_err(|e| kube::Error::Service(Box::new(e)))?
        .map_err(kube::Error::SerdeError)
    }

    /// One LIST of a namespaced kind in the scope, label- and field-selected.
    pub(super) async fn namespaced<K>(
        &self,
        namespace: Option<&str>,
        labels: Option<&str>,
        fields: Option<&str>,
    ) -> Result<Outcome<K>, LiveError>
    where
        K: Stored
            + Wire
            + Resource<Scope = NamespaceResourceScope>
            + Clone
            + DeserializeOwned
            + Debug
            + Send
            + 'static,
        K::DynamicType: Default,
    {
        let api = match namespace {
            Some(ns) => Api::namespaced(self.client.clone(), ns),
            None => Api::all(self.client.clone()),
        };
        let mut params = ListParams::default();
        if let Some(s) = labels {
            params = params.labels(s);
        }
        if let Some(s) = fields {
            params = params.fields(s);
        }
        self.list(api, params).await
    }

    pub(super) async fn cluster<K>(&self) -> Result<Outcome<K>, LiveError>
    where
        K: Stored + Wire + Resource + Clone + DeserializeOwned + Debug + Send + 'static,
        K::DynamicType: Default,
    {
        self.list(Api::all(self.client.clone()), ListParams::default())
            .await
    }

    /// [`Self::cluster`], keeping what mentions one of `wanted`.
    pub(super) async fn cluster_where<K>(&self, wanted: &Mentions) -> Result<Outcome<K>, LiveError>
    where
        K: Stored + Wire + Resource + Clone + DeserializeOwned + Debug + Send + 'static,
        K::DynamicType: Default,
    {
        self.list_where(Api::all(self.client.clone()), ListParams::default(), wanted)
            .await
    }

    /// The events a diagnosis keeps, in the namespace or everywhere: one
    /// field-selected LIST.
    pub(super) async fn events(
        &self,
        namespace: Option<&str>,
        filter: &EventFilter,
    ) -> Result<Outcome<Event>, LiveError> {
        let api = match namespace {
            Some(ns) => Api::<Event>::namespaced(self.client.clone(), ns),
            None => Api::all(self.client.clone()),
        };
        let selector = filter.field_selector();
        let params = if selector.is_empty() {
            ListParams::default()
        } else {
            ListParams::default().fields(&selector)
        };
        self.uncached(api, params).await
    }
}

impl Connection {
    /// One GET; `None` when the object does not exist, a gap when it may
    /// not be read.
    pub(super) async fn get<K>(&self, api: Api<K>, name: &str) -> Result<Outcome<K>, LiveError>
    where
        K: Stored + Resource + Clone + DeserializeOwned + Debug + Send + 'static,
    {
        match tokio::time::timeout(self.request_timeout, api.get_opt(name)).await {
            Err(_) => Err(LiveError::Timeout {
                server: self.server.clone(),
                after: self.request_timeout,
            }),
            Ok(Ok(found)) => Ok(Outcome::Items(found.into_iter().collect())),
            Ok(Err(e)) => match gap_of(K::KIND.resource, &e) {
                Some(gap) => Ok(Outcome::Gap(gap)),
                None => Err(self.fatal(e)),
            },
        }
    }

    /// Events about one object, by field selector: what `kubectl describe` reads.
    pub(super) async fn events_about(
        &self,
        ns: &str,
        kind: &str,
        name: &str,
    ) -> Result<Outcome<Event>, LiveError> {
        let params = ListParams::default().fields(&format!(
            "involvedObject.kind={kind},involvedObject.name={name}"
        ));
        self.uncached(Api::namespaced(self.client.clone(), ns), params)
            .await
    }

    pub(super) fn version_of(
        &self,
        version: Result<
            kube::Result<k8s_openapi::apimachinery::pkg::version::Info>,
            tokio::time::error::Elapsed,
        >,
    ) -> Result<Option<String>, LiveError> {
        match version {
            Ok(Ok(info)) => Ok(Some(info.git_version)),
            Ok(Err(e)) if gap_of("version", &e).is_some() => Ok(None),
            Ok(Err(e)) => Err(self.fatal(e)),
            Err(_) => Err(LiveError::Timeout {
                server: self.server.clone(),
                after: self.request_timeout,
            }),
        }
    }
}

/// What a read gave: its gaps, and whether any request gave objects.
#[derive(Default)]
pub(super) struct Reading {
    pub(super) gaps: Vec<Gap>,
    answered: bool,
    /// Optional CRDs the server does not know (404).
    uninstalled: Vec<String>,
}

impl Reading {
    /// The items of a request, or nothing and a gap.
    pub(super) fn take<T>(
        &mut self,
        outcome: Result<Outcome<T>, LiveError>,
    ) -> Result<Vec<T>, LiveError> {
        Ok(match outcome? {
            Outcome::Items(items) => {
                self.answered = true;
                items
            }
            Outcome::Gap(g) => {
                self.gaps.push(g);
                Vec::new()
            }
        })
    }
}

impl Reading {
    /// The items of a request for a CRD many clusters do not install: a
    /// 404 is noted apart, not a gap of its own.
    pub(super) fn take_optional<T>(
        &mut self,
        outcome: Result<Outcome<T>, LiveError>,
    ) -> Result<Vec<T>, LiveError> {
        match outcome? {
            Outcome::Gap(g) if g.reason == "NotFound" => {
                self.uninstalled.push(g.resource);
                Ok(Vec::new())
            }
            other => self.take(Ok(other)),
        }
    }

    /// One quiet line for the optional CRDs that are not installed: on a
    /// cluster without snapshots that is normal, not a loss.
    pub(super) fn quiet_uninstalled(&mut self) {
        if self.uninstalled.is_empty() {
            return;
        }
        let names = std::mem::take(&mut self.uninstalled);
        let mut groups: Vec<&str> = names
            .iter()
            .filter_map(|r| crate::kinds::ALL.iter().find(|k| k.resource == r))
            .map(|k| k.group)
            .collect();
        groups.dedup();
        self.gaps.push(Gap {
            resource: names.join(","),
            reason: "NotInstalled".to_string(),
            message: format!(
                "the {} CRDs are not installed on this cluster",
                groups.join(" and ")
            ),
        });
    }
}

/// A read where every request failed has nothing to diagnose: "no problem
/// found" would mislead, so it is an error naming the first gap.
pub(super) fn something_read(server: &str, reading: &Reading) -> Result<(), LiveError> {
    match reading.gaps.first() {
        Some(gap) if !reading.answered => Err(LiveError::NothingRead {
            server: server.to_string(),
            resource: gap.resource.clone(),
            reason: gap.reason.clone(),
            message: gap.message.clone(),
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::Objects;

    fn gap(resource: &str) -> Result<Outcome<()>, LiveError> {
        Ok(Outcome::Gap(Gap {
            resource: resource.to_string(),
            reason: "Forbidden".to_string(),
            message: format!("{resource} is forbidden"),
        }))
    }

    #[test]
    fn optional_crds_that_are_not_installed_make_one_quiet_gap() {
        let not_found = |resource: &str| -> Result<Outcome<()>, LiveError> {
            Ok(Outcome::Gap(Gap {
                resource: resource.to_string(),
                reason: "NotFound".to_string(),
                message: "the server could not find the requested resource".to_string(),
            }))
        };
        let mut reading = Reading::default();
        reading.take(Ok(Outcome::Items(vec![()]))).unwrap();
        for r in [
            "volumesnapshots",
            "volumesnapshotcontents",
            "volumesnapshotclasses",
            "volumepopulators",
        ] {
            reading.take_optional(not_found(r)).unwrap();
        }
        reading.quiet_uninstalled();
        assert_eq!(reading.gaps.len(), 1);
        assert_eq!(reading.gaps[0].reason, "NotInstalled");
        assert_eq!(
            reading.gaps[0].message,
            "the snapshot.storage.k8s.io and populator.storage.k8s.io CRDs are not installed on this cluster"
        );
        let snap = Snapshot::new(Objects::default(), reading.gaps, None);
        assert!(!snap.has("volumesnapshotcontents"));
        assert!(snap.has("pods"));
        // Forbidden stays a gap of its own.
        let mut reading = Reading::default();
        reading.take_optional(gap("volumesnapshots")).unwrap();
        reading.quiet_uninstalled();
        assert_eq!(reading.gaps[0].reason, "Forbidden");
    }

    #[test]
    fn a_read_where_every_request_failed_is_an_error() {
        let mut reading = Reading::default();
        reading.take(gap("pods")).unwrap();
        reading.take(gap("persistentvolumeclaims")).unwrap();
        let err = something_read("https://k8s", &reading).unwrap_err();
        assert_eq!(
            err.to_string(),
            "nothing could be read from the cluster at https://k8s: pods: Forbidden: pods is forbidden"
        );
        reading.take(Ok(Outcome::Items(Vec::<()>::new()))).unwrap();
        assert!(something_read("https://k8s", &reading).is_ok());
        assert_eq!(reading.gaps.len(), 2);
    }
}
