import LEPCLI

#if canImport(Glibc)
import Glibc
#endif

exit(LEPTool.main(Array(CommandLine.arguments.dropFirst())))
