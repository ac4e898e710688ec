import LEPJSON
import SafeTensors

extension ModelConfig {
    /// Records the weights' dtype in a raw `config.json` object under its PyTorch name (``DType/torchName``):
    /// in `dtype` when the file uses transformers 5's key, in `torch_dtype` when it has that key or
    /// neither. The one place outputs (merge, convert) write it.
    public static func setDtype(_ config: inout JSONObject, _ d: DType) {
        let name = d.torchName ?? "float64"
        if config["dtype"] != nil { config["dtype"] = .string(name) }
        if config["torch_dtype"] != nil || config["dtype"] == nil { config["torch_dtype"] = .string(name) }
    }
}
