"""The in-tree plugins of the scheduling framework (``pkg/scheduler/framework/plugins``)."""
