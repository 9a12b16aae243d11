public import Logging
public import S3

/// Builds the configured remote. The only place that knows which `RemoteStore` types exist.
public enum RemoteStoreFactory {
    public static func make(_ configuration: AgentConfiguration, retry: RetryPolicy = RetryPolicy(), logger: Logger) -> any RemoteStore {
        switch configuration.remote {
        case .directory(let path):
            return DirectoryRemote(root: path)
        case .s3(let bucket, let prefix):
            let settings = configuration.s3
            let client = S3Client(
                configuration: S3Configuration(
                    bucket: bucket, endpoint: settings.endpoint, region: settings.region,
                    pathStyle: settings.pathStyle,
                    credentials: settings.credentials ?? S3Credentials(accessKeyID: "", secretAccessKey: "")),
                retry: retry, logger: logger)
            return S3Remote(client: client, prefix: prefix, multipartThreshold: configuration.multipartThreshold, partSize: configuration.partSize, checksum: settings.checksum)
        }
    }
}
