import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// An element of a parsed document. S3's answers are small, so building a tree and then reading
/// it is simpler, and easier to check, than a state machine per document type.
struct XMLElementTree: Sendable {
    /// The local name: a namespace prefix, which no S3 provider is known to use, is dropped.
    let name: String
    /// The text directly inside this element, unmodified: keys may start or end with spaces.
    var text = ""
    var children: [XMLElementTree] = []

    init(name: String) {
        self.name = name
    }

    func child(_ name: String) -> XMLElementTree? {
        children.first { $0.name == name }
    }

    func children(_ name: String) -> [XMLElementTree] {
        children.filter { $0.name == name }
    }

    /// The text of the first child so named, nil when there is none.
    func text(of childName: String) -> String? {
        child(childName)?.text
    }

    /// Parses a whole document, returning its root element.
    static func parse(_ data: Data) throws(S3XMLError) -> XMLElementTree {
        // S3 may write spaces before the document to keep a slow CompleteMultipartUpload connection
        // alive, and libxml2 rejects anything before the XML declaration.
        let start = data.firstIndex { !(" \t\r\n".utf8.contains($0)) } ?? data.endIndex
        guard start < data.endIndex else { throw S3XMLError("expected an XML document, the body is empty") }
        // S3 answers in UTF-8. Anything else is refused here: FoundationXML crashed on invalid
        // UTF-8 inside an element name (found by fuzz/run.sh, FuzzS3XML).
        guard String(validating: data[start...], as: UTF8.self) != nil else {
            throw S3XMLError("expected an XML document in UTF-8, the body is not valid UTF-8")
        }

        // FoundationXML also crashed on a processing instruction without data, such as `<?x?>`
        // (found by fuzz/run.sh 60, FuzzS3XML). S3 answers carry none besides the declaration.
        if hasProcessingInstruction(Array(data[start...])) {
            throw S3XMLError("expected an S3 answer, the body holds an XML processing instruction")
        }

        let parser = XMLParser(data: Data(data[start...]))
        parser.shouldProcessNamespaces = false
        parser.shouldResolveExternalEntities = false
        let builder = TreeBuilder()
        parser.delegate = builder
        guard parser.parse(), let root = builder.root else {
            let reason = parser.parserError.map { " (\($0.localizedDescription))" } ?? ""
            throw S3XMLError("expected a well-formed XML document\(reason)")
        }
        return root
    }
}

extension XMLElementTree {
    /// True when `<?` appears anywhere but in a leading `<?xml ...?>` declaration.
    static func hasProcessingInstruction(_ bytes: [UInt8]) -> Bool {
        let opening: [UInt8] = Array("<?".utf8)
        var rest = bytes[...]
        if bytes.starts(with: "<?xml".utf8), bytes.count > 5, " \t\r\n".utf8.contains(bytes[5]),
           let end = bytes.indices.dropFirst(2).first(where: { bytes[$0 - 1] == UInt8(ascii: "?") && bytes[$0] == UInt8(ascii: ">") }) {
            rest = bytes[(end + 1)...]
        }
        return rest.indices.dropFirst().contains { rest[$0 - 1] == opening[0] && rest[$0] == opening[1] }
    }
}

/// Collects `XMLParser` events into an `XMLElementTree`.
private final class TreeBuilder: NSObject, XMLParserDelegate {
    private var open: [XMLElementTree] = []
    private(set) var root: XMLElementTree?

    func parser(
        _ parser: XMLParser,
        didStartElement elementName: String,
        namespaceURI: String?,
        qualifiedName: String?,
        attributes: [String: String] = [:]
    ) {
        let localName = elementName.split(separator: ":").last.map(String.init) ?? elementName
        open.append(XMLElementTree(name: localName))
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        // The parser may deliver one text node in several pieces (around entities, for example).
        guard !open.isEmpty else { return }
        open[open.count - 1].text += string
    }

    func parser(_ parser: XMLParser, foundCDATA block: Data) {
        guard !open.isEmpty else { return }
        open[open.count - 1].text += String(decoding: block, as: UTF8.self)
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
        guard let element = open.popLast() else { return }
        if open.isEmpty {
            root = element
        } else {
            open[open.count - 1].children.append(element)
        }
    }
}
