//! Finding a Task named `spec.taskName` in `spec.namespace`: ours from an earlier run
//! (regenerated in place) or someone else's (which this function must not replace).

use crate::krm::{Failure, ResourceList};
use crate::spec::Spec;

/// A Task of our name in the input.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ExistingTask {
    pub(crate) index: usize,
    /// Whether it carries our `app.kubernetes.io/managed-by` label.
    pub(crate) ours: bool,
}

/// What the input holds of Tekton, for the plan (the checks read the output).
#[derive(Debug, Clone, Default)]
pub(crate) struct Topology {
    pub(crate) task: Option<ExistingTask>,
}

pub(crate) fn detect(rl: &ResourceList, spec: &Spec) -> Result<Topology, Failure> {
    let t = &spec.tekton;
    let task = rl
        .one("tekton.dev", "Task", &t.task_name, &t.namespace, |_| true)?
        .map(|index| ExistingTask {
            index,
            ours: rl.items[index].managed_by.as_deref() == Some(crate::MANAGED_BY),
        });
    Ok(Topology { task })
}
