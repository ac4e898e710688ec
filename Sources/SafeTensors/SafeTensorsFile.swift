/// One opened, validated safetensors file.
public final class SafeTensorsFile: @unchecked Sendable {
    /// The mapped file.
    public let mapped: MappedFile
    /// The validated header.
    public let header: SafeTensorsHeader
    private let index: [String: Int]

    /// Opens and validates `path`. Only the header pages are read.
    public init(path: String) throws(SafeTensorsError) {
        mapped = try MappedFile(path: path)
        header = try SafeTensorsHeader.parse(file: mapped.bytes, path: path)
        var index: [String: Int] = [:]
        for (i, t) in header.tensors.enumerated() { index[t.name] = i }
        self.index = index
    }

    /// Path of the file.
    public var path: String { mapped.path }
    /// Tensor entries in file order.
    public var tensors: [TensorInfo] { header.tensors }
    /// Tensor names in file order.
    public var names: [String] { header.tensors.map(\.name) }

    /// True when the file holds `name`.
    public func contains(_ name: String) -> Bool { index[name] != nil }

    /// A zero-copy view of tensor `name`.
    public func view(_ name: String) throws(SafeTensorsError) -> TensorView {
        guard let i = index[name] else { throw .noSuchTensor(name: name, path: path) }
        let info = header.tensors[i]
        return TensorView(info: info, file: mapped, fileOffset: header.dataStart + info.dataOffsets.lowerBound)
    }
}
