using DinCluster.Core.Batches;
using DinCluster.Core.Embeddings;
using DinCluster.Core.Metrics;
using DinCluster.Data;
using DinCluster.Model.Networks;

namespace DinCluster.Cluster.Local;

/// <summary>Scores test files with a network and in-process tables: AUC, GAUC, log loss, and optionally every prediction.</summary>
public static class Evaluator
{
    public static EvaluationOutput Run(
        IBatchScorer network, ShardedEmbeddings tables, BehaviourLogReader reader,
        IReadOnlyList<string> files, int batchSize, bool keepItems = false)
    {
        var schema = network.Schema;
        var group = schema.SparseIndex(schema.GroupBy);
        var item = schema.HistoryPairs.Count > 0 ? schema.SparseIndex(schema.HistoryPairs[0].Query) : -1;
        var users = new List<long>();
        var items = new List<long>();
        var labels = new List<float>();
        var scores = new List<float>();
        long batchId = 0;
        foreach (var file in files)
        {
            foreach (var batch in reader.ReadFile(file, batchSize, batchId))
            {
                batchId++;
                if (batch.Count == 0) continue;
                var index = BatchIndex.Build(batch, schema);
                var predictions = network.Predict(batch, index, EmbeddingRows.Pull(tables, schema, index));
                scores.AddRange(predictions);
                labels.AddRange(batch.Labels);
                users.AddRange(group >= 0 ? batch.Sparse[group] : new long[batch.Count]);
                if (keepItems) items.AddRange(item >= 0 ? batch.Sparse[item] : new long[batch.Count]);
            }
        }
        var u = users.ToArray();
        var l = labels.ToArray();
        var s = scores.ToArray();
        return new EvaluationOutput(EvaluationResult.Compute(u, s, l), u, items.ToArray(), l, s);
    }
}

public sealed record EvaluationOutput(EvaluationResult Metrics, long[] Users, long[] Items, float[] Labels, float[] Scores);
