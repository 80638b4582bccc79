import ArgumentParser
import CLISupport
import DDNKernel
import Foundation

/// `ddnunzip`: restore, list or test the files of a ddnzip archive.
@main
struct DDNUnzip: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ddnunzip",
        abstract: "Restore the PNG files of a ddnzip archive, pixel-exact.",
        discussion: """
            A file that exists already is named and left as it is, and every other entry is \
            restored (-f or -o overwrites, -n skips existing files quietly). An image over \
            --max-pixels is named and left out (not damage). -q names no skipped file, as \
            unzip -qq: the exit status tells. Exit status: 0 all done; 2 existing \
            files or images over --max-pixels were skipped and nothing else went wrong; 1 damaged \
            entries, entries refused for unsafe names (absolute, ..: never written), files that \
            could not be written, or names that match nothing.
            """ + "\n\n" + Listing.columns,
        version: DDNVersion.line("ddnunzip"))

    /// Runs the command; every failure, usage errors included, is one line on standard error.
    static func main() { mainReportingOneLine(tool: "ddnunzip") }

    @Argument(help: "The archive, or - for standard input.")
    var archive: String

    @Argument(help: ArgumentHelp("Restore only these entries: names, folders (train/3: every entry below it, as tar does) or shell patterns ('train/3/*.png'); default: all.", valueName: "name"))
    var selection: [String] = []

    @Option(name: .customShort("d", allowingJoined: true), help: ArgumentHelp("Folder to restore into (created if missing).", valueName: "dir"))
    var d: String = "."

    @Flag(name: .short, help: "List the entries, restore nothing (the columns are explained at the top of this help).")
    var l = false

    @Flag(name: .short, help: "Test: decode every entry and check its CRC-32, write nothing.")
    var t = false

    @Flag(name: .short, help: "Never overwrite: leave existing files as they are, quietly (exit status 0), as unzip -n.")
    var n = false

    @Flag(name: .short, help: "Overwrite existing files, as unzip -o (the same as -f).")
    var o = false

    @OptionGroup var options: CommonOptions

    @Option(name: .customLong("levels"), parsing: .unconditional, help: ArgumentHelp("Write, for each DDN entry NAME.png, the model's reconstruction after at most N levels as NAME.levelsN.png instead of the image (a preview from the path alone, no residual).", valueName: "N"))
    var levels: Int?

    func validate() throws {
        if let levels, levels < 0 { throw ValidationError.refused("--levels", "at least 0", got: levels) }
        if levels != nil && (t || l) { throw ValidationError("--levels writes previews; it cannot be combined with -t or -l") }
        if n && (o || options.f) { throw ValidationError("-n never overwrites; it cannot be combined with -f or -o") }
    }

    /// Exit status when existing files (without -n) or images over `--max-pixels` were skipped
    /// and nothing else went wrong.
    static let skippedStatus: Int32 = 2

    /// -f or -o: replace existing files.
    private var overwrite: Bool { options.f || o }

    /// One line per existing target left alone (none with -n), and the summary's note on them.
    private func existingLines(_ outcome: ArchiveExtractor.Outcome) -> (lines: [String], note: String) {
        let count = outcome.existing.count
        let lines = n ? [] : outcome.existing.map { "\($0) exists; skipped (-f or -o overwrites, -n skips quietly)" }
        return (lines, count == 0 ? "" : "; \(count) existing file\(count == 1 ? "" : "s") left as \(count == 1 ? "it was" : "they were")")
    }

    func run() throws {
        do { try unzip() } catch let code as ExitCode { throw code } catch {
            FileHandle.standardError.write("ddnunzip: \(error)\n".data(using: .utf8)!)
            throw ExitCode(1)
        }
    }

    private func unzip() throws {
        InterruptCleanup.install()
        if archive == "-" && Files.isTerminal(0) { throw FileError("refusing to read an archive from a terminal") }
        var bytes = try Files.read(archive)
        let name = archive == "-" ? "standard input" : archive
        func named<T>(_ body: () throws -> T) throws -> T {   // an archive-level error names the archive
            do { return try body() } catch let e as ArchiveError { throw FileError("\(name): \(e)") }
        }
        // The model is loaded only for an archive that names one (listing needs none).
        func open(_ bytes: [UInt8]) throws -> ArchiveReader {
            do {
                return try ArchiveReader.opening(bytes, maxPixels: options.maxPixels, model: !l || t ? { try DDNModel.load(path: options.m, needing: $0) } : nil)
            } catch ArchiveError.modelMismatch(let expected, let given) {
                throw FileError("\(name): " + DDNModel.mismatchLine(needed: expected, given: given, path: options.m))
            } catch let e as ArchiveError { throw FileError("\(name): \(e)") }
        }
        // One damaged header byte fails every entry: repaired by the entries' CRC-32 (Spec/ARCHIVE.md §6),
        // as the C ABI does (ArchiveReader.openingRepairingHeader).
        var headerRepaired: Int?
        func repairHeader() -> Bool {
            let model = try? DDNModel.load(path: options.m, needing: ArchiveHeader.namedModel(bytes))
            let coders = model.flatMap { try? CoderSet.standard(model: $0) } ?? .withoutModel
            guard headerRepaired == nil, let fix = ArchiveReader.repairHeader(bytes, coders: coders, maxPixels: options.maxPixels) else { return false }
            bytes = fix.bytes
            headerRepaired = fix.offset
            return true
        }
        var reader: ArchiveReader
        do {
            // (a version-3 block is not decoded twice: repairHeader() below once every entry fails)
            let opened = try ArchiveReader.openingRepairingHeader(bytes, maxPixels: options.maxPixels, probingBlocks: false,
                                                                  model: !l || t ? { try DDNModel.load(path: options.m, needing: $0) } : nil)
            reader = opened.reader
            if let fix = opened.repair { (bytes, headerRepaired) = (fix.bytes, fix.offset) }
        } catch {
            _ = try open(bytes)   // the error as ddnunzip words it
            throw error
        }
        // Entries named on the command line (names, folders, shell patterns; `*` also crosses `/`);
        // a pattern that matches nothing is reported, the others are still restored.
        var chosen: [Int]?
        var problems: [String] = []
        if !selection.isEmpty {
            chosen = reader.entries.indices.filter { i in selection.contains { Self.selects($0, reader.entries[i].name) } }
            for p in selection where !reader.entries.contains(where: { Self.selects(p, $0.name) }) {
                problems.append("\(archive): no entry matches \(p)")
            }
            if chosen!.isEmpty { throw FileError(problems[0]) }
        }
        if l {
            print(Listing.table(reader, only: chosen))
            if !t {
                for range in reader.unreadable where !(range.isEmpty && reader.truncation != nil) {
                    problems.append(ArchiveError.unreadableBytes(range.lowerBound, range.upperBound).description)
                }
                if let cut = reader.truncation {
                    problems.append(ArchiveError.truncatedArchive(at: cut.end, part: cut.part, from: cut.offset, entry: nil).description)
                }
                if let end = reader.damagedEnd { problems.append(end.error.description) }
                for line in problems { log("ddnunzip: \(line)") }
                if !problems.isEmpty || reader.foundDamage { throw ExitCode(1) }
                return
            }
        }
        let threads = options.threads
        if let levels {
            let previews = try ArchiveExtractor.previews(reader, only: chosen, levels: levels, threads: threads)
            let names = previews.map { ArchiveExtractor.previewName($0.name, levels: levels) }
            let outcome = try ArchiveExtractor.write(previews.map(\.png), names: names, into: d, overwrite: overwrite)
            let existing = existingLines(outcome)
            // -q: the skipped lines too, as unzip -qq (the exit status still tells)
            for line in outcome.failed + (options.q ? [] : existing.lines) { log("ddnunzip: \(line)") }
            if options.v && !options.q { for (p, name) in zip(previews, names) { log("  \(name): reconstruction after \(p.depth) level\(p.depth == 1 ? "" : "s")") } }
            if !options.q || !outcome.failed.isEmpty {
                let written = outcome.written
                log("ddnunzip: wrote \(written) DDN preview\(written == 1 ? "" : "s") into \(d)" +
                    (previews.count < (chosen?.count ?? reader.entries.count) ? " (\((chosen?.count ?? reader.entries.count) - previews.count) entries have no DDN path)" : "") + existing.note)
            }
            if !outcome.failed.isEmpty { throw ExitCode(1) }
            if !existing.lines.isEmpty { throw ExitCode(Self.skippedStatus) }
            return
        }
        let bar = ProgressBar(total: chosen?.count ?? reader.entries.count, label: "ddnunzip", enabled: !options.q)
        var outcomes = reader.restoreAll(selection: chosen, threads: threads, progress: { bar.update($0) })
        // (entries over the pixel limit fail by choice, not for a damaged header)
        let failsAsDamaged = { (o: ArchiveReader.Outcome) -> Bool in if case .failure(let e) = o.file { return !e.isPixelLimit } else { return false } }
        if !outcomes.isEmpty && !outcomes.contains(where: { (try? $0.file.get()) != nil }) && outcomes.contains(where: failsAsDamaged) && repairHeader() {
            reader = try open(bytes)
            outcomes = reader.restoreAll(selection: chosen, threads: threads, progress: { bar.update($0) })
        }
        bar.finish()
        if let offset = headerRepaired { problems.append("\(name): header byte \(offset) was damaged; repaired by the entries' CRC-32") }
        for i in reader.repairedEntries where chosen?.contains(i) ?? true {
            problems.append("entry \(reader.entries[i].name): a damaged byte among its fields was repaired by its CRC-32")
        }
        let good = outcomes.compactMap { o in (try? o.file.get()).map { (name: o.name, bytes: $0) } }
        var unnamed = 0
        var overLimit: [String] = []   // entries left out for --max-pixels: named, not damaged
        for o in outcomes {
            if o.nameRepaired { problems.append("entry \(o.name): its name's bytes were damaged; repaired by its CRC-32") }
            if o.fieldsRepaired { problems.append("entry \(o.name): a damaged byte among its fields was repaired by its CRC-32") }
            guard case .failure(let e) = o.file else { continue }
            if e.isPixelLimit { overLimit.append("skipped \(e)"); continue }
            // whole, but refused for its name (crafted: absolute, `..`, repeated): not damage
            if o.index >= 0, let line = e.refusalLine { problems.append(line); continue }
            // an entry whose name is not even a name was read from damaged bytes: counted, not listed
            if o.index >= 0 && (try? ArchiveEntry.validateName(o.name)) == nil { unnamed += 1 } else { problems.append(e.description) }
        }
        if unnamed > 0 { problems.append("corrupt archive: \(unnamed) more damaged entr\(unnamed == 1 ? "y" : "ies") without a readable name") }
        // restored + over the pixel limit + damaged + lost = the entry count, when it is known
        // (Spec/ARCHIVE.md §6)
        let tally = reader.tally(outcomes, selection: chosen)
        var written = good.count, unwritten = 0
        var existing: (lines: [String], note: String) = ([], "")
        if !t {
            let outcome = try ArchiveExtractor.write(good.map(\.bytes), names: good.map(\.name), into: d, overwrite: overwrite)
            written = outcome.written
            unwritten = outcome.failed.count
            problems += outcome.failed
            existing = existingLines(outcome)
        }
        let skipped = overLimit + existing.lines
        // -q silences the skipped lines too, as unzip -qq does (the exit status still tells);
        // problems (damage, refusals, files not written) are always named
        for line in problems + (options.q ? [] : skipped) { log("ddnunzip: \(line)") }
        if options.v && !options.q { for f in good { log("  \(f.name): \(t ? "OK (\(f.bytes.count) bytes)" : "\(f.bytes.count) bytes")") } }
        if !options.q || !problems.isEmpty {
            let total = tally.entryCount.map { " of \($0)" } ?? ""
            var rest = [tally.refused > 0 ? "\(tally.refused) refused for their names" : nil,
                        tally.damaged > 0 ? "\(tally.damaged) damaged" : nil, tally.lost > 0 ? "\(tally.lost) lost" : nil,
                        tally.overLimit > 0 ? "\(tally.overLimit) over the pixel limit (--max-pixels)" : nil].compactMap { $0 }
            switch tally.truncation?.part {
            case .endRecord?: rest.append("the archive is cut inside its end record")
            case let part?: rest.append("the archive is cut at byte \(tally.truncation!.end)\(part == .entry ? "" : ", after a whole entry"): entries after it are not counted")
            case nil:
                if let end = reader.damagedEnd, chosen == nil { rest.append(end.afterEndRecord ? "junk after the end record" : "the end record is damaged") }
            }
            let damage = rest.isEmpty ? "" : (t ? ", " : "; ") + rest.joined(separator: ", ")
            // restored + not written + existing + refused + damaged + lost + over the limit = the count
            // (plural by the count when there is one: "1 of 8 files", "1 entry OK")
            let counted = tally.entryCount ?? (t ? good.count : written)
            let notWritten = unwritten == 0 ? "" : "; \(unwritten) could not be written"
            log(t ? "ddnunzip: \(good.count)\(total) entr\(counted == 1 ? "y" : "ies") OK" + damage
                  : "ddnunzip: restored \(written)\(total) file\(counted == 1 ? "" : "s") into \(d)" + notWritten + damage + existing.note)
        }
        if !problems.isEmpty { throw ExitCode(1) }
        if !skipped.isEmpty { throw ExitCode(Self.skippedStatus) }
    }

    /// Whether the command line's `pattern` selects the entry `name`: the name itself, a shell
    /// pattern matching it (`*` also crosses `/`), or a folder holding it at any depth, with or
    /// without a trailing `/` (`train/3` and `train/3/` select `train/3/x0.png`, as tar does).
    /// A leading `./` is ignored (entry names never have one).
    static func selects(_ pattern: String, _ name: String) -> Bool {
        var p = Substring(pattern)
        while p.hasPrefix("./") { p = p.dropFirst(2).drop { $0 == "/" } }
        while p.count > 1 && p.hasSuffix("/") { p = p.dropLast() }
        let folder = String(p)
        return fnmatch(folder, name, 0) == 0 || fnmatch(folder + "/*", name, 0) == 0
    }

    private func log(_ line: String) {
        FileHandle.standardError.write((line + "\n").data(using: .utf8)!)
    }
}
