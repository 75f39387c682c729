using System.Diagnostics;
using DinCluster.Cluster.Checkpoints;
using DinCluster.Cluster.Jobs;
using DinCluster.Cluster.Runs;
using DinCluster.Core.Batches;
using DinCluster.Core.Checkpoints;
using DinCluster.Core.Embeddings;
using DinCluster.Core.Optimizers;
using DinCluster.Data;
using DinCluster.Model.Networks;
using DinCluster.Model.Training;

namespace DinCluster.Cluster.Local;

/// <summary>
/// The single-process reference trainer: no actors, the same train step, sparse optimizers
/// and dense Adam as the cluster, with the embedding tables in <see cref="ShardedEmbeddings"/>.
/// The distributed trainer is checked against it (parity) and measured against it (throughput).
/// <code>
///   for epoch: row groups in a seeded order -> batches -> pull rows -> train step
///              -> push row grads (sparse optimizer) -> dense Adam -> ...; test eval; checkpoint
/// </code>
/// </summary>
public sealed class LocalTrainer(TrainJob job, TextWriter log)
{
    /// <summary>Losses of every step, in order (parity tests compare these).</summary>
    public List<float> StepLosses { get; } = [];

    public RunSummary Run(string command = "train --local")
    {
        job.Validate();
        Directory.CreateDirectory(job.OutDir);
        var schema = job.Schema;
        // Bad input is reported once per row: refused files (inventory), the first epoch's pass
        // over the training files, and the first test evaluation. Later passes skip the same rows
        // again into counts of their own, which give each epoch's ledger.
        var badInput = new BadInputCounts();
        var inventoryReader = new BehaviourLogReader(schema, job.OnBadInput, badInput);

        var summary = new RunSummary
        {
            Mode = "local",
            Command = command,
            StartedUtc = DateTime.UtcNow,
            Config = job.Describe(),
            Cluster = new ClusterShape { Nodes = 1, Workers = 1, PsShards = job.PsShards, DataShards = 1, Sync = "local" },
        };
        var summaryPath = Path.Combine(job.OutDir, "summary.json");
        try
        {
            var units = Inventory(inventoryReader, job.TrainFiles(), out var readableSamples);
            var refusedSamples = badInput.TotalSkippedRows;
            var trainSamples = readableSamples + refusedSamples;
            if (units.Count == 0)
                throw new InvalidDataException($"no training data: every file in {job.TrainDir} was refused ({badInput})");
            var testFiles = job.TestFiles();
            summary.Dataset = new DatasetInfo
            {
                Path = job.DataDir,
                TrainSamples = trainSamples,
                TrainFiles = units.Select(u => u.File).Distinct().Count(),
                TrainRowGroups = units.Count,
                BayesAuc = job.BayesAuc(),
            };
            log.WriteLine($"local trainer: {trainSamples:N0} training samples in {units.Count} row groups, {job.Epochs} epoch(s), batch {job.BatchSize} in {job.Lanes} lane(s), preset {job.Model.Preset.ToString().ToLowerInvariant()}, {job.PsShards} embedding shard(s), seed {job.Seed}");

            // No actors share this process: the lanes get every core (or --threads), split evenly.
            var threads = job.TorchThreads > 0 ? job.TorchThreads : Environment.ProcessorCount;
            using var network = new NetworkLanes(schema, job.Model, job.Lanes, Math.Max(1, threads / job.Lanes));
            var tables = new ShardedEmbeddings(schema.Tables, job.PsShards, job.Embeddings);
            var dense = new DenseParameters(network.GetDense(), job.Dense);
            var store = new CheckpointStore(Path.Combine(job.OutDir, "checkpoints"));
            using var metrics = new MetricsLog(Path.Combine(job.OutDir, "metrics.csv"));
            long step = 0, samplesSeen = 0, rejected = 0;
            var firstEpoch = 1;
            TrainingProgress? resumed = null;
            if (job.Resume)
            {
                (resumed, tables, dense) = Restore(network, summary);
                step = resumed.Step;
                samplesSeen = resumed.SamplesSeen;
                firstEpoch = resumed.ResumeEpoch;
            }
            var progress = new ProgressLine(log, "train", trainSamples * job.Epochs);
            var schedule = new CheckpointSchedule(job.CheckpointEverySteps, job.CheckpointEveryMinutes);
            schedule.Reset(step, DateTime.UtcNow);
            var clock = Stopwatch.StartNew();

            for (var epoch = firstEpoch; epoch <= job.Epochs && !StepLimitReached(step); epoch++)
            {
                var epochClock = Stopwatch.StartNew();
                var order = units.ToArray();
                new Random(unchecked((int)job.Seed * 7919 + epoch)).Shuffle(order);
                var epochBadInput = new BadInputCounts();
                var reader = new BehaviourLogReader(schema, job.OnBadInput, epochBadInput);
                // A resumed epoch continues after the batches its checkpoint already holds.
                var partial = resumed is { EpochComplete: false } r && r.Epoch == epoch ? r : null;
                long epochSamples = partial?.EpochSamples ?? 0, epochSteps = partial?.EpochSteps ?? 0;
                double lossSum = partial?.EpochLossSum ?? 0, windowLoss = 0;
                long batchesDone = 0, skipBatches = partial?.EpochBatchesDone ?? 0;
                long windowSamples = 0;
                var windowClock = Stopwatch.StartNew();
                foreach (var unit in order)
                {
                    foreach (var batch in reader.ReadBatches(unit.File, unit.RowGroup, job.BatchSize, step))
                    {
                        if (StepLimitReached(step)) break;
                        if (batchesDone++ < skipBatches || batch.Count == 0) continue;
                        var index = BatchIndex.Build(batch, schema);
                        var rows = EmbeddingRows.Pull(tables, schema, index);
                        var result = network.TrainStep(batch, index, rows);
                        step++;
                        var applied = EmbeddingRows.Push(tables, schema, index, result.RowGradients, batchId: step);
                        applied &= dense.Apply(result.DenseGradient);
                        if (applied) network.SetDense(dense.Values);
                        else rejected++;
                        StepLosses.Add(result.Loss);
                        epochSteps++;
                        epochSamples += batch.Count;
                        samplesSeen += batch.Count;
                        lossSum += result.Loss * batch.Count;
                        windowLoss += result.Loss * batch.Count;
                        windowSamples += batch.Count;
                        if (step % job.LogEverySteps == 0)
                        {
                            metrics.Add(new MetricsRow(epoch, step, samplesSeen, clock.Elapsed.TotalSeconds,
                                windowLoss / windowSamples, windowSamples / windowClock.Elapsed.TotalSeconds));
                            windowLoss = 0;
                            windowSamples = 0;
                            windowClock.Restart();
                        }
                        progress.Report(samplesSeen, $"epoch {epoch} loss {lossSum / epochSamples:F4}");
                        if (schedule.Due(step, DateTime.UtcNow) && !StepLimitReached(step))
                        {
                            var mid = ModelCheckpoint.Save(store, step, epoch, epochComplete: false,
                                schema, job.Model, job.Embeddings, job.Dense, dense.Export(), network.GetBuffers(), tables,
                                new TrainingProgress
                                {
                                    Epoch = epoch, Step = step, SamplesSeen = samplesSeen, EpochSteps = epochSteps, EpochSamples = epochSamples,
                                    EpochLossSum = lossSum, EpochBatchesDone = batchesDone, Epochs = [.. summary.Epochs],
                                });
                            summary.Checkpoints.Add(Path.GetRelativePath(job.OutDir, mid));
                            schedule.Reset(step, DateTime.UtcNow);
                        }
                    }
                }
                var trainSeconds = epochClock.Elapsed.TotalSeconds;
                if (epoch == 1) badInput.Merge(epochBadInput);
                var testBadInput = new BadInputCounts();
                var test = Evaluator.Run(network, tables, new BehaviourLogReader(schema, job.OnBadInput, testBadInput), testFiles, job.EvalBatchSize);
                if (epoch == 1) badInput.Merge(testBadInput);
                var skipped = epochBadInput.TotalSkippedRows + refusedSamples;
                var record = new EpochRecord
                {
                    Epoch = epoch,
                    SamplesExpected = trainSamples,
                    SamplesConsumed = epochSamples,
                    SamplesSkipped = skipped,
                    LedgerExact = epochSamples + skipped == trainSamples && !StepLimitReached(step),
                    Steps = epochSteps,
                    TrainLoss = epochSamples > 0 ? lossSum / epochSamples : double.NaN,
                    Seconds = trainSeconds,
                    SamplesPerSecond = epochSamples / trainSeconds,
                    Test = new TestMetrics(test.Metrics.Auc, test.Metrics.Gauc, test.Metrics.LogLoss, test.Metrics.Samples),
                };
                summary.Epochs.Add(record);
                summary.Dataset.TestSamples = test.Metrics.Samples;
                metrics.Add(new MetricsRow(epoch, step, samplesSeen, clock.Elapsed.TotalSeconds, null, record.SamplesPerSecond,
                    test.Metrics.Auc, test.Metrics.Gauc, test.Metrics.LogLoss));
                progress.Report(samplesSeen, $"epoch {epoch} done");
                log.WriteLine();
                log.WriteLine($"epoch {epoch}: train loss {record.TrainLoss:F4}, {record.SamplesPerSecond:N0} samples/s | test AUC {test.Metrics.Auc:F4}  GAUC {test.Metrics.Gauc:F4}  logloss {test.Metrics.LogLoss:F4}");

                var complete = !StepLimitReached(step);
                var ckpt = ModelCheckpoint.Save(store, step, epoch, complete,
                    schema, job.Model, job.Embeddings, job.Dense, dense.Export(), network.GetBuffers(), tables,
                    new TrainingProgress
                    {
                        Epoch = epoch, EpochComplete = complete, Step = step, SamplesSeen = samplesSeen, EpochSteps = epochSteps,
                        EpochSamples = epochSamples, EpochLossSum = lossSum, EpochBatchesDone = batchesDone,
                        Epochs = complete ? [.. summary.Epochs] : [.. summary.Epochs.SkipLast(1)],
                    });
                schedule.Reset(step, DateTime.UtcNow);
                summary.Checkpoints.Add(Path.GetRelativePath(job.OutDir, ckpt));
                summary.Steps = step;
                summary.TrainSeconds += trainSeconds;
                Finish(summary, badInput, rejected);
                summary.Write(summaryPath);
            }
            summary.Status = "completed";
            summary.FinishedUtc = DateTime.UtcNow;
            Finish(summary, badInput, rejected);
            summary.Write(summaryPath);
            CurvesPlot.Save(metrics.Rows, Path.Combine(job.OutDir, "curves.png"), summary.Dataset.BayesAuc);
            return summary;
        }
        catch (Exception e) when (e is BadInputException or InvalidDataException or FileNotFoundException or Core.Features.SchemaException)
        {
            summary.Status = "failed";
            summary.Error = e.Message;
            summary.FinishedUtc = DateTime.UtcNow;
            summary.BadInput = badInput.IsEmpty ? null : badInput.Snapshot();
            summary.Write(summaryPath);
            throw;
        }
    }

    private bool StepLimitReached(long step) => job.MaxSteps > 0 && step >= job.MaxSteps;

    /// <summary>
    /// --resume: the newest valid checkpoint of the run (refused ones are named in the log), its
    /// tables re-sharded onto this job's shard count, dense weights + Adam + Dice statistics into
    /// <paramref name="network"/>, and its finished epochs into <paramref name="summary"/>.
    /// </summary>
    private (TrainingProgress, ShardedEmbeddings, DenseParameters) Restore(NetworkLanes network, RunSummary summary)
    {
        var dir = ModelCheckpoint.Resolve(job.OutDir, (d, why) => log.WriteLine($"checkpoint {Path.GetFileName(d)} refused: {why}; trying the previous one"));
        var progress = TrainingProgress.Read(dir);
        var model = ModelCheckpoint.Load(dir, job.PsShards);
        var weights = network.GetDense().Length;
        if (model.Dense.Values.Length != weights)
            throw new InvalidDataException($"checkpoint {dir} holds {model.Dense.Values.Length} dense weights, this job's model has {weights}: resume with the run's own settings");
        var dense = DenseParameters.Import(model.Dense, job.Dense);
        network.SetDense(dense.Values);
        network.SetBuffers(model.Buffers);
        summary.Epochs.AddRange(progress.Epochs);
        summary.TrainSeconds = progress.Epochs.Sum(e => e.Seconds);
        var before = int.Parse(model.Manifest.Meta.GetValueOrDefault("ps_shards", "0"), System.Globalization.CultureInfo.InvariantCulture);
        summary.ResumedFrom = new ResumeRecord(Path.GetRelativePath(job.OutDir, dir), progress.Step, progress.Epoch, progress.EpochComplete, before, job.PsShards);
        log.WriteLine($"resuming from {Path.GetFileName(dir)}: step {progress.Step}, epoch {progress.Epoch} ({(progress.EpochComplete ? "complete" : $"{progress.EpochBatchesDone} batches done")}), {before} -> {job.PsShards} embedding shard(s)");
        return (progress, model.Tables, dense);
    }

    private static void Finish(RunSummary summary, BadInputCounts badInput, long rejected)
    {
        summary.BadInput = badInput.IsEmpty ? null : badInput.Snapshot();
        summary.NonFiniteGradientSteps = rejected;
        summary.Summarize();
    }

    /// <summary>Every readable row group of the training files, with its row count; refused files are counted by the reader.</summary>
    internal static List<TrainUnit> Inventory(BehaviourLogReader reader, IReadOnlyList<string> files, out long samples)
    {
        var units = new List<TrainUnit>();
        samples = 0;
        foreach (var file in files)
        {
            var info = reader.Inspect(file);
            if (info is null) continue; // unreadable and skipped: counted by the reader
            for (var g = 0; g < info.RowGroupRows.Count; g++)
            {
                units.Add(new TrainUnit(file, g, info.RowGroupRows[g]));
                samples += info.RowGroupRows[g];
            }
        }
        return units;
    }
}

/// <summary>One row group of one training file: the unit the trainer (and the data shards) hand out.</summary>
public sealed record TrainUnit(string File, int RowGroup, long Rows);
