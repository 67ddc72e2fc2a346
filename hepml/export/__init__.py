"""Export of a trained task to ONNX or TorchScript: a graph from raw file values to physical
predictions (:mod:`hepml.export.graph`), its inputs and metadata (:mod:`hepml.export.inputs`),
and the writers (:mod:`hepml.export.writers`). ``hepml export`` (:mod:`hepml.pipelines.export`)
drives them from a checkpoint."""
