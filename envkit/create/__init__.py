"""``envkit create``: the pipeline (``pipeline``), staging and the atomic swap (``staging``), the pip
step (``pipstep``), the TensorRT bindings fix-up (``trt_fixup``), the environment record (``record``)
and the conda-CLI backends (``backends``)."""
