//! Tekton's change: the Task, added, or regenerated in place of the one an earlier run
//! wrote. A Task of the same name that this function did not write is an error.

use super::Topology;
use super::task;
use crate::krm::{Failure, FnResult, ResourceList, ResourceRef};
use crate::plan::{Change, Plan, System};
use crate::spec::Spec;
use crate::{MANAGED_BY, MANAGED_BY_LABEL, buildkit};

/// The daemon's address for `BUILDKIT_HOST`: the spec's when given, else the daemon's
/// Service in the input (`tcp://<service>.<namespace>.svc:<port>`, which resolves from
/// any namespace), else the default of BuildKit's examples.
fn buildkit_host(spec: &Spec, buildkit: &buildkit::Topology, plan: &mut Plan) -> String {
    let t = &spec.tekton;
    if t.buildkit_host_given {
        return t.buildkit_host.clone();
    }
    let Some(svc) = &buildkit.service else {
        return t.buildkit_host.clone();
    };
    let host = if svc.namespace.is_empty() {
        format!("tcp://{}:{}", svc.name, svc.port)
    } else {
        format!("tcp://{}.{}.svc:{}", svc.name, svc.namespace, svc.port)
    };
    plan.tell(FnResult::info(format!(
        "BUILDKIT_HOST defaults to {host}: the daemon's Service {}/{} (port {})",
        svc.namespace, svc.name, svc.port
    )));
    host
}

pub fn plan(
    rl: &ResourceList,
    spec: &Spec,
    topology: &Topology,
    buildkit: &buildkit::Topology,
) -> Result<Plan, Failure> {
    let mut plan = Plan::new(System::Tekton);
    let (name, ns) = (&spec.tekton.task_name, &spec.tekton.namespace);
    let host = buildkit_host(spec, buildkit, &mut plan);
    let generated = task::task(spec, &host);
    match topology.task {
        None => {
            plan.change(Change::Add(generated));
            plan.tell(
                FnResult::info(format!(
                    "generated Task {ns}/{name}: buildctl build and push to {}",
                    spec.endpoint.authority()
                ))
                .on(ResourceRef {
                    api_version: "tekton.dev/v1".into(),
                    kind: "Task".into(),
                    name: name.clone(),
                    namespace: ns.clone(),
                }),
            );
        }
        Some(t) if t.ours => {
            plan.change(Change::Replace {
                item: t.index,
                with: generated,
            });
            plan.tell(
                FnResult::info(format!("regenerated Task {ns}/{name}"))
                    .on(ResourceRef::of(&rl.items[t.index])),
            );
        }
        Some(t) => {
            return Err(Failure::new(
                FnResult::error(format!(
                    "a Task {name} that harbor-buildkit-fn did not generate (no {MANAGED_BY_LABEL}: {MANAGED_BY} label) is already in the input; set spec.taskName to another name, or remove that Task"
                ))
                .on(ResourceRef::of(&rl.items[t.index]))
                .at("spec.taskName"),
            ));
        }
    }
    Ok(plan)
}
