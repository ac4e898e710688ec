import Support

extension SafeTensorsFile {
    /// SHA-256 of the header bytes (length prefix + JSON): identifies the tensors' names, dtypes,
    /// shapes and layout cheaply, for provenance records.
    public var headerSHA256: String {
        SHA256.hex(UnsafeRawBufferPointer(rebasing: mapped.bytes[0..<header.dataStart]))
    }
}
