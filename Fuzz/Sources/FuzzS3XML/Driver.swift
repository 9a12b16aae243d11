import FuzzDriver

@_cdecl("FuzzS3XML_main")
func fuzzerEntryPoint(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runFuzzer(argc, argv) { data, size in fuzzS3XML(data, size) }
}

/// libFuzzer's own objects refer to this symbol even when its driver is given the callback.
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    fuzzS3XML(data, size)
}
