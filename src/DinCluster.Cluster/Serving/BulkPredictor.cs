using DinCluster.Cluster.Runs;
using DinCluster.Core.Batches;
using DinCluster.Data;

namespace DinCluster.Cluster.Serving;

/// <summary>
/// Scores Parquet behaviour-log files in bulk, one row group at a time (memory bounded by a row
/// group and the batch), in file order, with the reader's bad-input checks; rows go to a
/// <see cref="PredictionWriter"/> in input order, created once the files are inspected (with a
/// label column when every file has one).
/// </summary>
public static class BulkPredictor
{
    public static PredictSummary Run(
        ModelScorer scorer, BehaviourLogReader reader, IReadOnlyList<string> files, Func<bool, PredictionWriter> createWriter, int batchSize,
        TextWriter? log = null)
    {
        var schema = scorer.Schema;
        var user = schema.SparseIndex(schema.GroupBy);
        var item = schema.SparseIndex(schema.HistoryPairs[0].Query);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var infos = files.Select(reader.Inspect).ToList();
        var total = infos.Sum(i => i?.Rows ?? 0);
        var withLabel = infos.All(i => i?.HasLabel ?? true);
        using var writer = createWriter(withLabel);
        var progress = log is null ? null : new ProgressLine(log, "predict", total);
        long done = 0, unseen = 0, batchId = 0;
        var rowGroups = 0;
        foreach (var info in infos)
        {
            if (info is null) continue;   // refused under --on-bad-input skip (counted by the reader)
            for (var g = 0; g < info.RowGroupCount; g++)
            {
                var group = new List<(Batch Batch, float[] Scores)>();
                foreach (var batch in reader.ReadBatches(info.Path, g, batchSize, batchId))
                {
                    batchId++;
                    if (batch.Count == 0) continue;
                    var scored = scorer.Score(batch);
                    unseen += scored.UnseenIds;
                    group.Add((batch, scored.Probabilities));
                }
                if (group.Count > 0)
                {
                    var all = group.Count == 1 ? group[0].Batch : Batch.Concat(group.Select(p => p.Batch).ToList(), 0);
                    var scores = group.SelectMany(p => p.Scores).ToArray();
                    writer.Write(user >= 0 ? all.Sparse[user] : new long[all.Count], item >= 0 ? all.Sparse[item] : new long[all.Count], scores, all.Labels);
                }
                done += info.RowGroupRows[g];
                rowGroups++;
                if (done < total) progress?.Report(done, "rows");
            }
        }
        progress?.Done("rows");
        return new PredictSummary(files.Count, rowGroups, writer.Rows, total, unseen, clock.Elapsed, withLabel);
    }
}

/// <param name="Rows">Rows scored and written.</param>
/// <param name="InputRows">Rows in the input files (more than Rows when bad rows were skipped).</param>
/// <param name="UnseenIds">Unique ids per batch that no table row held, summed over batches.</param>
/// <param name="WithLabel">Whether the output has a label column (every input file had one).</param>
public sealed record PredictSummary(int Files, int RowGroups, long Rows, long InputRows, long UnseenIds, TimeSpan Elapsed, bool WithLabel)
{
    public double RowsPerSecond => Elapsed.TotalSeconds > 0 ? Rows / Elapsed.TotalSeconds : 0;
}
