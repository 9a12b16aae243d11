/// The Content-Type of an object, guessed from its extension: browsers and CDNs serving the
/// bucket need it to play a video instead of downloading it.
enum ContentType {
    static func forPath(_ path: String) -> String {
        guard let dot = path.lastIndex(of: "."), !path[dot...].contains("/") else { return fallback }
        return byExtension[path[path.index(after: dot)...].lowercased()] ?? fallback
    }

    static let fallback = "application/octet-stream"

    private static let byExtension: [String: String] = [
        "aac": "audio/aac", "flac": "audio/flac", "m4a": "audio/mp4", "mp3": "audio/mpeg", "ogg": "audio/ogg",
        "opus": "audio/opus", "wav": "audio/wav", "weba": "audio/webm",
        "avi": "video/x-msvideo", "m4v": "video/mp4", "mkv": "video/x-matroska", "mov": "video/quicktime",
        "mp4": "video/mp4", "mpeg": "video/mpeg", "ogv": "video/ogg", "ts": "video/mp2t", "webm": "video/webm",
        "avif": "image/avif", "bmp": "image/bmp", "gif": "image/gif", "heic": "image/heic", "ico": "image/x-icon",
        "jpeg": "image/jpeg", "jpg": "image/jpeg", "png": "image/png", "svg": "image/svg+xml", "tif": "image/tiff",
        "tiff": "image/tiff", "webp": "image/webp",
        "csv": "text/csv", "htm": "text/html", "html": "text/html", "md": "text/markdown", "srt": "application/x-subrip",
        "txt": "text/plain; charset=utf-8", "vtt": "text/vtt", "xml": "application/xml",
        "json": "application/json", "jsonl": "application/x-ndjson", "pdf": "application/pdf",
        "gz": "application/gzip", "tar": "application/x-tar", "zip": "application/zip",
        "glb": "model/gltf-binary", "gltf": "model/gltf+json", "obj": "model/obj",
        "npy": "application/octet-stream", "pt": "application/octet-stream", "safetensors": "application/octet-stream",
    ]
}
