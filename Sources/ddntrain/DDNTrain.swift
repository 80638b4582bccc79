import ArgumentParser
import CLISupport
import DDNKernel
import Foundation

/// ddntrain: trains a Discrete Distribution Network on a collection of images (Spec/MODEL.md).
@main
struct DDNTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ddntrain",
        abstract: "Train a Discrete Distribution Network model for ddnzip on a collection of images.",
        discussion: """
        DATA are idx3-ubyte files (optionally .gz, e.g. /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz) \
        or folders of PNGs. The held-out images (--held-out N, from --test) are measured at checkpoints and, at the end, \
        as one archive each with the new model, the default model and no model: the bytes ddnzip writes. The run ends with the next command.
        """,
        version: DDNVersion.line("ddntrain"))

    /// Every failure, usage errors included, is one line on standard error.
    static func main() { mainReportingOneLine(tool: "ddntrain") }

    @Argument(help: "Training images: idx/idx.gz files or folders of PNGs.")
    var data: [String]

    @Option(name: .long, help: "Output model file (no optimiser state). A checkpoint with state goes to OUT.ckpt.")
    var out: String

    @Option(name: .long, help: "Held-out images (idx/idx.gz or PNG folder); default: the t10k file next to the first idx input, if any.")
    var test: String?

    @Option(name: .long, parsing: .unconditional, help: "Held-out images to evaluate: the first N of --test.")
    var heldOut = 1000

    @Option(name: .long, parsing: .unconditional, help: "Use only the first N training images (default: all).")
    var limit: Int?

    @Option(name: .long, parsing: .unconditional, help: "Training budget in minutes of wall clock, including the time of a resumed run (default 10 unless --steps is given). With --steps too, the run ends at whichever budget is spent first.")
    var minutes: Double?

    @Option(name: .long, parsing: .unconditional, help: "Training budget in steps (minibatches), including those of a resumed run: the same command then writes the same model bytes however fast the machine is. With --minutes too, the run ends at whichever budget is spent first.")
    var steps: Int?

    @Option(name: .long, parsing: .unconditional, help: "Seed for initialisation, shuffling and sampling.")
    var seed: UInt64 = 1

    @Option(name: .long, help: "Resume from a checkpoint written by ddntrain (OUT.ckpt).")
    var resume: String?

    @Option(name: .long, help: "Candidate selection during training: proportional or nearest.")
    var selection: String = "proportional"

    @Option(name: .long, parsing: .unconditional, help: "β at the start of the run (proportional selection).")
    var betaStart: Double = 1

    @Option(name: .long, parsing: .unconditional, help: "β at the end of the run; geometric in between.")
    var betaEnd: Double = 1000

    @Option(name: [.customShort("K"), .long], parsing: .unconditional, help: "Candidates per level.")
    var candidates = 64

    @Option(name: [.customShort("L"), .long], parsing: .unconditional, help: "Levels (recurrence only; single-shot levels follow the image size).")
    var levels = 10

    @Option(name: .long, parsing: .unconditional, help: "Base width c (single-shot: level widths min(4c, c·2^(L−1−l)), default 12; recurrence: U-Net c, 2c, 4c, default 8).")
    var channels: Int?

    @Option(name: .long, parsing: .unconditional, help: "σ of the Gaussian residual proxy, in [-1, 1] units.")
    var sigma: Float = 0.1

    @Option(name: .long, parsing: .unconditional, help: "Width of the residual network's first hidden layer (0: no network, a version-1 model whose residual is coded by the context coder).")
    var residualHidden = 128

    @Option(name: .long, parsing: .unconditional, help: "Width of the residual network's second hidden layer.")
    var residualHidden2 = 64

    @Option(name: .long, parsing: .unconditional, help: "Radius of the residual network's window on the reconstruction x̂.")
    var residualWindow = 2

    @Option(name: .long, parsing: .unconditional, help: "Choose the last level's candidate among this many nearest by the residual network's own bits (one network pass each per image; 0: by the squared-error proxy; Spec/MODEL.md §6.2, §7.7).")
    var realBitsCandidates = 4

    @Flag(inversion: .prefixedNo, help: "Condition the residual network on the path too: a learned vector per level and candidate added to its hidden layers (model file version 3; Spec/MODEL.md §8.1).")
    var pathEmbedding = true

    @Option(name: .long, parsing: .unconditional, help: "Weight of the Gaussian proxy kept on each level beside the description length (with a residual network).")
    var proxyWeight: Float = 0.1

    @Option(name: .long, help: "Start from this model's DDN (a trained model file); a residual network is added if it has none.")
    var initFrom: String?

    @Option(name: .long, parsing: .unconditional, help: "Minibatch size.")
    var batchSize = 32

    @Option(name: .long, parsing: .unconditional, help: "Adam learning rate.")
    var lr: Float = 2e-3

    @Option(name: .long, parsing: .unconditional, help: "Worker threads (1 or 2; results do not depend on it).")
    var threads = 2

    @Option(name: .long, help: "Layout: recurrence (one network, level as input) or single-shot (levels at growing resolution; --levels is then set by the image size).")
    var layout: String = "single-shot"

    @Option(name: .long, parsing: .unconditional, help: "Training images used to learn the codec's residual statistics stored in the model (default: all).")
    var statisticsImages: Int?

    @Option(name: .long, parsing: .unconditional, help: "Training images used to learn the context residual proxy for the final report.")
    var contextImages = 30000

    @Option(name: .long, help: "Write nearest-path reconstructions (8-bit raw, all levels) of the context-learning images and the held-out images into this folder, for residual-model experiments.")
    var dumpReconstructions: String?

    @Option(name: .long, parsing: .unconditional, help: "Minutes between checkpoints.")
    var checkpointMinutes: Double = 5

    @Option(name: .long, help: "Candidate grid PNG: each level's candidates for a few held-out images, or the first training images without held-out ones (default OUT.grid.png; 'none' to skip).")
    var grid: String?

    @Option(name: .long, help: "Training curve PNG: bits per sub-pixel against steps, the training estimate and the held-out measurements (default OUT.curve.png; 'none' to skip).")
    var curve: String?

    @Flag(name: .short, help: "Verbose: every 30 s a line of training details (images/s, the bits by part, depth, β, splits, dead heads per level); at the end the model's per-level figures and speeds.")
    var v = false

    @Flag(name: [.customShort("f"), .long], help: "Overwrite an existing --out model (a --resume run may always rewrite its own files).")
    var force = false

    func validate() throws {
        if !force && resume == nil && FileManager.default.fileExists(atPath: out) {
            throw ValidationError("\(out) exists (use -f to overwrite; archives made with it would no longer decode)")
        }
        // the model and its checkpoint go beside --out: refused now, not after the training budget
        let folder = (out as NSString).deletingLastPathComponent
        var isFolder: ObjCBool = false
        if !folder.isEmpty && !(FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) && isFolder.boolValue) {
            throw ValidationError("--out \(out): no folder \(folder) to write it in")
        }
        guard SelectionRule(rawValue: selection) != nil else { throw ValidationError("--selection must be proportional or nearest (got \(selection))") }
        guard layout == "recurrence" || layout == "single-shot" else { throw ValidationError("--layout must be recurrence or single-shot (got \(layout))") }
        guard heldOut >= 1 else { throw ValidationError.refused("--held-out", "at least 1", got: heldOut) }
        if let limit, limit < 1 { throw ValidationError.refused("--limit", "at least 1", got: limit) }
        if let minutes, !(minutes > 0) { throw ValidationError.refused("--minutes", "positive", got: minutes) }
        if let steps, steps < 1 { throw ValidationError.refused("--steps", "at least 1", got: steps) }
        guard betaStart > 0 else { throw ValidationError.refused("--beta-start", "positive", got: betaStart) }
        guard betaEnd > 0 else { throw ValidationError.refused("--beta-end", "positive", got: betaEnd) }
        guard (2...1024).contains(candidates) else { throw ValidationError.refused("-K", "2...1024", got: candidates) }
        guard (1...256).contains(levels) else { throw ValidationError.refused("-L", "1...256", got: levels) }
        if let channels, !(1...256).contains(channels) { throw ValidationError.refused("--channels", "1...256", got: channels) }
        guard sigma > 0 && sigma.isFinite else { throw ValidationError.refused("--sigma", "positive", got: Double(sigma)) }
        guard (0...1024).contains(residualHidden) else { throw ValidationError.refused("--residual-hidden", "0...1024", got: residualHidden) }
        guard (1...1024).contains(residualHidden2) else { throw ValidationError.refused("--residual-hidden2", "1...1024", got: residualHidden2) }
        guard (0...4).contains(residualWindow) else { throw ValidationError.refused("--residual-window", "0...4", got: residualWindow) }
        guard (0...64).contains(realBitsCandidates) else { throw ValidationError.refused("--real-bits-candidates", "0...64", got: realBitsCandidates) }
        guard proxyWeight >= 0 && proxyWeight.isFinite else { throw ValidationError.refused("--proxy-weight", "at least 0", got: Double(proxyWeight)) }
        guard batchSize >= 2 else { throw ValidationError.refused("--batch-size", "at least 2", got: batchSize) }
        guard lr > 0 && lr.isFinite else { throw ValidationError.refused("--lr", "positive", got: Double(lr)) }
        guard (1...2).contains(threads) else { throw ValidationError.refused("--threads", "1 or 2", got: threads) }
        if let statisticsImages, statisticsImages < 1 { throw ValidationError.refused("--statistics-images", "at least 1", got: statisticsImages) }
        guard contextImages >= 1 else { throw ValidationError.refused("--context-images", "at least 1", got: contextImages) }
        guard checkpointMinutes > 0 else { throw ValidationError.refused("--checkpoint-minutes", "positive", got: checkpointMinutes) }
    }

    func run() throws {
        let say: (String) -> Void = { FileHandle.standardError.write(($0 + "\n").data(using: .utf8)!) }
        let tty = isatty(2) != 0
        // 1. data
        let train = try Dataset.load(paths: data, limit: limit)
        var testPath = test
        if testPath == nil, let f = data.first, f.contains("train-images-idx3-ubyte") {
            let t = f.replacingOccurrences(of: "train-images-idx3-ubyte", with: "t10k-images-idx3-ubyte")
            if FileManager.default.fileExists(atPath: t) { testPath = t }
        }
        let held = try testPath.map { try Dataset.load(path: $0, limit: heldOut) }
        if let held, let testPath, held.shapeDescription != train.shapeDescription {
            throw DatasetError.mixedShapes("\(testPath) has \(held.shapeDescription) images, but the training images are \(train.shapeDescription): \(Dataset.oneShapeReason)")
        }
        if train.width * train.height * train.channels > DDNConfig.maxTrainedSubPixels {
            throw DatasetError.badFile(path: data[0], reason: "images of \(train.shapeDescription) are larger than ddntrain trains a model for " +
                "(at most \(DDNConfig.maxTrainedSubPixels) sub-pixels, e.g. 256×256 grey); ddnzip codes them without a model")
        }
        say("data: \(train.count) training images \(train.width)×\(train.height)×\(train.channels) @\(train.bitDepth) bits" +
            (held.map { ", \($0.count) held-out" } ?? ""))

        // 2. model and trainer
        var opt = TrainOptions()
        opt.selection = SelectionRule(rawValue: selection)!
        opt.betaStart = betaStart; opt.betaEnd = betaEnd
        opt.lr = lr; opt.batchSize = batchSize; opt.threads = threads; opt.seed = seed; opt.proxyWeight = proxyWeight
        opt.realBitsCandidates = realBitsCandidates
        var model: DDNModel
        if let resume {
            do { model = try DDNModel(contentsOf: URL(fileURLWithPath: resume)) } catch { throw ValidationError("\(resume): \(error)") }
            guard let st = model.trainingState else { throw ValidationError("\(resume) has no training state (not a checkpoint)") }
            say("resumed \(resume): step \(st.step), \(Int(st.elapsedSeconds)) s trained; the checkpoint's model configuration is kept (-K, -L, --channels, --layout are ignored)")
        } else if let initFrom {
            do { model = try DDNModel(contentsOf: URL(fileURLWithPath: initFrom)) } catch { throw ValidationError("\(initFrom): \(error)") }
            if residualHidden > 0 && (model.config.residualHidden, model.config.residualHidden2, model.config.residualWindow) != (residualHidden, residualHidden2, residualWindow) {
                model = model.withResidualNetwork(hidden: residualHidden, hidden2: residualHidden2, window: residualWindow, seed: seed)
                model.setResidualOutputBias(histogram: train.histogram())
            }
            model.trainingState = nil
            if pathEmbedding && model.hasResidualNetwork && !model.config.pathEmbedding { model = model.withPathEmbedding() }
            say("starting from \(initFrom)'s DDN" + (residualHidden > 0 ? " with a residual network of width \(residualHidden)" : "")
                + (model.config.pathEmbedding ? ", conditioned on the path" : ""))
        } else {
            var cfg = DDNConfig(width: train.width, height: train.height, channels: train.channels, bitDepth: train.bitDepth,
                                levels: levels, candidates: candidates, baseChannels: channels ?? 8, sigma: sigma)
            if layout == "single-shot" {
                cfg = DDNConfig.singleShot(width: train.width, height: train.height, channels: train.channels, bitDepth: train.bitDepth,
                                           candidates: candidates, baseChannels: channels ?? 12)
                cfg.sigma = sigma
            }
            cfg.residualHidden = residualHidden
            cfg.residualHidden2 = residualHidden2
            cfg.residualWindow = residualWindow
            cfg.pathEmbedding = pathEmbedding && residualHidden > 0
            if let e = cfg.validationError() { throw ValidationError(e) }
            model = DDNModel(config: cfg, seed: seed, start: train.meanImage())
            model.setResidualOutputBias(histogram: train.histogram())
        }
        let cfg = model.config
        let modelShape = Dataset.describeShape(width: cfg.width, height: cfg.height, channels: cfg.channels, bitDepth: cfg.bitDepth)
        guard train.shapeDescription == modelShape else {
            throw DatasetError.mixedShapes("the training images are \(train.shapeDescription), but \(resume ?? initFrom ?? "the model") is a model of \(modelShape) images: \(Dataset.oneShapeReason)")
        }
        let trainer = Trainer(model: model, options: opt)
        say("model: \(cfg.layout == 1 ? "single-shot" : "recurrence") L=\(cfg.levels) K=\(cfg.candidates) c=\(cfg.baseChannels), \(model.parameterCount) parameters, " +
            "\(model.decoderMACsPerImage / 1000)k MAC/image decode (all levels), \(model.encoderMACsPerImage / 1000)k encode; selection \(selection)")

        // 3. loop: the schedule (β, learning rate) follows the fraction of the budget spent: steps
        // (reproducible), wall-clock seconds, or with both whichever is further along.
        let budget: Double? = minutes.map { $0 * 60 } ?? (steps == nil ? 600 : nil)
        if let steps, trainer.step >= UInt64(steps) {
            say("\(resume ?? "the checkpoint") is already at step \(trainer.step), the end of --steps \(steps) (a budget counts from step 0): nothing to train")
        }
        let floats = train.floats()
        let outURL = URL(fileURLWithPath: out)
        let ckptURL = URL(fileURLWithPath: out + ".ckpt")
        var order = trainer.shuffledOrder(train.count)
        var cursor = Int(trainer.imagesSeen % UInt64(train.count))
        let startElapsed = trainer.elapsedSeconds
        let startImages = trainer.imagesSeen
        let t0 = Date()
        var lastPrint = Date.distantPast, lastCkpt = Date()
        var ema: StepStats? = nil
        var windowImages = 0, windowStart = Date()
        var rate = 0.0
        var lastDetail = Date.distantPast
        var trend = Trend()
        var curve = TrainingCurve()
        let curvePath = self.curve ?? (out + ".curve.png")
        /// Writes the curve as it is so far; a failure is said once a line and training goes on.
        @discardableResult func writeCurve() -> Bool {
            guard curvePath != "none" else { return false }
            do { try curve.write(to: curvePath); return true } catch { say("curve \(curvePath) not written: \(error)"); return false }
        }
        let interrupt = InterruptFlag()
        floats.withUnsafeBufferPointer { fp in
            while true {
                let elapsed = startElapsed + Date().timeIntervalSince(t0)
                trainer.elapsedSeconds = elapsed
                let frac = max(steps.map { Double(trainer.step) / Double($0) } ?? 0, budget.map { elapsed / $0 } ?? 0)
                if frac >= 1 || interrupt.isSet { break }
                var batch: [Int] = []
                for _ in 0..<batchSize {
                    if cursor >= order.count { order = trainer.shuffledOrder(train.count); cursor = 0 }
                    batch.append(order[cursor]); cursor += 1
                }
                let beta = trainer.beta(at: frac)
                let st = trainer.trainStep(data: fp.baseAddress!, batch: batch, beta: beta, lrScale: trainer.lrScale(at: frac))
                if var e = ema {
                    let a = 0.02
                    e.pathBpsp += a * (st.pathBpsp - e.pathBpsp); e.haltBpsp += a * (st.haltBpsp - e.haltBpsp)
                    e.residualBpsp += a * (st.residualBpsp - e.residualBpsp); e.meanDepth += a * (st.meanDepth - e.meanDepth)
                    e.splits += st.splits
                    ema = e
                } else { ema = st }
                let trainBpsp = ema!.pathBpsp + ema!.haltBpsp + ema!.residualBpsp
                curve.addTrain(step: Int(trainer.step), bpsp: trainBpsp)
                trend.add(time: elapsed, value: trainBpsp)
                windowImages += batchSize
                let now = Date()
                if now.timeIntervalSince(windowStart) >= 10 || rate == 0 && now.timeIntervalSince(windowStart) >= 2 {
                    rate = Double(windowImages) / now.timeIntervalSince(windowStart); windowImages = 0; windowStart = now
                }
                // The details behind the estimate, for whoever tunes the training (-v, every 30 s).
                let details = {
                    let e = ema!
                    return String(format: "step %d: %.1f images/s; bits per sub-pixel: path %.3f + halting %.3f + residual (%@) %.3f; mean depth %.1f; β %.3g; splits %d; dead heads per level %@",
                                  Int(trainer.step), rate, e.pathBpsp, e.haltBpsp, cfg.residualHidden > 0 ? "network" : "Gaussian proxy", e.residualBpsp,
                                  e.meanDepth, beta, e.splits, trainer.deadHeads().map(String.init).joined(separator: ","))
                }
                if v && now.timeIntervalSince(lastDetail) >= 30 {
                    lastDetail = now
                    if tty { FileHandle.standardError.write("\r\u{1B}[K".data(using: .utf8)!) }
                    say(details())
                }
                if now.timeIntervalSince(lastPrint) >= (tty ? 1 : 30) {
                    lastPrint = now
                    let line = progressLine(step: Int(trainer.step), bpsp: trainBpsp, trend: trend.phrase(now: trainBpsp, at: elapsed),
                                            elapsed: elapsed, budget: budget)
                    if tty { FileHandle.standardError.write(("\r\u{1B}[K" + line).data(using: .utf8)!) } else { say(line) }
                }
                if now.timeIntervalSince(lastCkpt) >= checkpointMinutes * 60 {
                    lastCkpt = now
                    if tty { say("") }
                    do { try trainer.model(withState: true).write(to: ckptURL); say("checkpoint \(ckptURL.path) written at " + details()) }
                    catch { say("checkpoint \(ckptURL.path) not written: \(error)") }
                    if let held, cfg.residualHidden > 0 {
                        let few = held.prefix(200)
                        if let r = try? CodecReport.measure(trainer.model(withState: false), heldOut: (0..<few.count).map(few.image), threads: threads) {
                            say(String(format: "held-out %d images, the codec's bits: %.4f bpsp = path %.4f + halting %.4f + residual %.4f; mean depth %.2f; network alone (depth 0) %.4f",
                                       few.count, r.totalBpsp, r.pathBpsp, r.haltingBpsp, r.residualBpsp, r.meanDepth, r.depthZeroBpsp))
                            curve.addHeldOut(step: Int(trainer.step), bpsp: r.totalBpsp)
                        }
                    } else if let held {
                        let few = held.prefix(200)
                        let r = trainer.model(withState: false).evaluate(few, threads: threads)
                        say(String(format: "held-out %d images: %.4f bpsp = path %.4f + halt %.4f + residual(logistic proxy) %.4f; RMSE %.1f",
                                   few.count, r.totalBpsp, r.pathBpsp, r.haltBpsp, r.residualBpsp, (r.mse.last ?? 0).squareRoot()))
                        curve.addHeldOut(step: Int(trainer.step), bpsp: r.totalBpsp)
                    }
                    writeCurve()
                }
            }
        }
        if tty { say("") }
        if interrupt.isSet {
            writeCurve()
            try trainer.model(withState: true).write(to: ckptURL)
            say("interrupted at step \(trainer.step): checkpoint written; continue with --resume \(ckptURL.path)")
            throw ExitCode(130)
        }
        let session = Date().timeIntervalSince(t0)
        let sessionImages = Double(trainer.imagesSeen - startImages)
        // 4. save, report
        try trainer.model(withState: true).write(to: ckptURL)
        var final = trainer.model(withState: false)
        // The codec's residual statistics, learned from the training images with the trained model
        // (Spec/CODEC.md §6.4), and the held-out bits exactly as ddnzip will code them.
        if cfg.residualHidden == 0 { say("fitting the codec's residual statistics…") }
        let statisticsSet = train.prefix(statisticsImages ?? train.count)
        let heldImages = held.map { h in (0..<h.count).map(h.image) } ?? []
        let fitted = try CodecReport.finalize(final, training: (0..<statisticsSet.count).map(statisticsSet.image),
                                              heldOut: heldImages, threads: threads)
        final = fitted.model
        try final.write(to: outURL)
        if v {
            let perImage = trainer.flopsPerImage
            let avg = sessionImages / max(session, 1e-9)
            say(String(format: "throughput: %.1f images/s over the session (last window %.1f), %.2f GFLOP/s implied (%.1f MFLOP per training image); step %d, %llu images seen, %.0f s this session",
                       avg, rate, avg * perImage / 1e9, perImage / 1e6, Int(trainer.step), trainer.imagesSeen, session))
        }
        say("wrote \(outURL.path) (\(final.serialized().count) bytes, sha256 \(final.identity.map { String(format: "%02x", $0) }.joined())) and \(ckptURL.path)")
        if v { say("training dead heads per level (share < 0.1/K): " + trainer.deadHeads().map(String.init).joined(separator: ",")) }
        if let held, cfg.residualHidden > 0 {
            let c = fitted.report
            say(String(format: "held-out %d images, the codec's bits (coder 5: integer tables, the residual network): %.4f bpsp = path %.4f + halting %.4f + residual %.4f; mean depth %.2f; network alone (depth 0): %.4f",
                       c.images, c.totalBpsp, c.pathBpsp, c.haltingBpsp, c.residualBpsp, c.meanDepth, c.depthZeroBpsp))
            curve.addHeldOut(step: Int(trainer.step), bpsp: c.totalBpsp)
            if v {
                let r = final.evaluate(held, threads: threads)
                say("held-out per level: unused heads " + r.unusedHeads.map(String.init).joined(separator: ","))
                say("held-out per level: selection entropy bits " + r.selectionEntropy.map { String(format: "%.2f", $0) }.joined(separator: ","))
                say("held-out RMSE (grey levels) after level 0..L: " + r.mse.map { String(format: "%.1f", $0.squareRoot()) }.joined(separator: ","))
            }
        } else if let held {
            let fit = train.prefix(contextImages)
            if let dir = dumpReconstructions {
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
                for (name, d) in [("train", fit), ("test", held)] {
                    let rec = final.reconstructions(d, threads: threads)
                    try Data(rec.flatMap { $0.map { UInt8(min($0, 255)) } }).write(to: URL(fileURLWithPath: dir + "/recon-\(name).u8"))
                    try Data(d.samples.map { UInt8(min($0, 255)) }).write(to: URL(fileURLWithPath: dir + "/image-\(name).u8"))
                }
                say("dumped reconstructions to \(dir)")
            }
            if v {
                // The proxies training used, against the codec's bits below.
                let r = final.evaluate(held, threads: threads)
                say(String(format: "held-out %d images: %.4f bpsp = path %.4f + halt %.4f + residual(logistic proxy) %.4f; mean depth %.2f (%.1f s)",
                           r.images, r.totalBpsp, r.pathBpsp, r.haltBpsp, r.residualBpsp, r.meanDepth, r.seconds))
                let ctx = final.learnContextCost(fit, threads: threads)
                let r2 = final.evaluate(held, cost: ctx, threads: threads)
                say(String(format: "held-out %d images: %.4f bpsp = path %.4f + halt %.4f + residual(context proxy, learned on %d training images) %.4f; mean depth %.2f",
                           r2.images, r2.totalBpsp, r2.pathBpsp, r2.haltBpsp, fit.count, r2.residualBpsp, r2.meanDepth))
                let ctx0 = final.learnContextCost(fit, depth: 0, threads: threads)
                let r0 = final.evaluate(held, cost: ctx0, threads: threads, maxDepth: 0)
                say(String(format: "held-out %d images with the DDN off (depth 0; context proxy learned at depth 0): %.4f bpsp = halt %.4f + residual %.4f",
                           r0.images, r0.totalBpsp, r0.haltBpsp, r0.residualBpsp))
                say("held-out per level: unused heads " + r.unusedHeads.map(String.init).joined(separator: ","))
                say("held-out per level: selection entropy bits " + r.selectionEntropy.map { String(format: "%.2f", $0) }.joined(separator: ","))
                say("held-out RMSE (grey levels) after level 0..L: " + r.mse.map { String(format: "%.1f", $0.squareRoot()) }.joined(separator: ","))
            }
            let c = fitted.report
            say(String(format: "held-out %d images, the codec's coding path (integer tables, context coder with statistics from %d training images): %.4f bpsp = path %.4f + halting %.4f + residual %.4f; mean depth %.2f; DDN off (depth 0): %.4f",
                       c.images, statisticsSet.count, c.totalBpsp, c.pathBpsp, c.haltingBpsp, c.residualBpsp, c.meanDepth, c.depthZeroBpsp))
            curve.addHeldOut(step: Int(trainer.step), bpsp: c.totalBpsp)
        }
        if v, let held {
            let sp = final.codingPathSpeed(held.prefix(300))
            say(String(format: "coding path (model forward of all %d levels, one thread): encode %.0f images/s, decode %.0f images/s",
                       cfg.levels, sp.encode, sp.decode))
        }
        // The candidate grid, always (unless --grid none): a few held-out images, or without
        // held-out images the first training images.
        let gridPath = grid ?? (out + ".grid.png")
        if gridPath != "none" {
            let shown = (held ?? train).prefix(4)
            do {
                try CandidateGrid.write(model: final, images: shown, to: URL(fileURLWithPath: gridPath))
                say("grid: \(gridPath) (\(shown.count) \(held == nil ? "training" : "held-out") image\(shown.count == 1 ? "" : "s"))")
            } catch { say("grid \(gridPath) not written: \(error)") }
        }
        if writeCurve() {
            say("curve: \(curvePath) (bits per sub-pixel against steps: train" + (curve.heldOut.isEmpty ? ")" : ", and held-out at \(curve.heldOut.count) point\(curve.heldOut.count == 1 ? "" : "s"))"))
        }
        // In plain words, what ddnzip writes for the held-out images with each model.
        if let held, let testPath {
            do {
                let inputs = try ArchiveComparison.inputs(path: testPath, held: held)
                for line in try ArchiveComparison.measure(inputs, model: final, threads: threads).lines() { say(line) }
            } catch { say("held-out archives not measured: \(error)") }
        } else {
            say("no held-out images (--test): no archives to compare")
        }
        say(nextCommand(model: out))
    }
}

/// Set by the first SIGINT or SIGTERM: the training loop stops after the current step and writes
/// a checkpoint. A second signal ends the process at once.
final class InterruptFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var set = false
    private var sources: [DispatchSourceSignal] = []

    init() {
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { [unowned self] in
                self.lock.lock(); let again = self.set; self.set = true; self.lock.unlock()
                if again { exit(128 + sig) }
            }
            source.resume()
            sources.append(source)
        }
    }

    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return set }
}
