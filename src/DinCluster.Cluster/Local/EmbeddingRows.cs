using DinCluster.Core.Batches;
using DinCluster.Core.Embeddings;
using DinCluster.Core.Features;

namespace DinCluster.Cluster.Local;

/// <summary>Pulls and pushes the rows of a batch's unique ids against in-process shards.</summary>
public static class EmbeddingRows
{
    /// <summary>rows[t] = UniqueIds[t].Length x dim floats, in schema.Tables order.</summary>
    public static float[][] Pull(ShardedEmbeddings tables, FeatureSchema schema, BatchIndex index)
    {
        var rows = new float[schema.Tables.Count][];
        for (var t = 0; t < rows.Length; t++)
        {
            var (name, dim) = schema.Tables[t];
            rows[t] = new float[index.UniqueIds[t].Length * dim];
            tables.Pull(name, index.UniqueIds[t], rows[t]);
        }
        return rows;
    }

    /// <summary>Pushes one gradient row per unique id; false when any table refused the push as non-finite.</summary>
    public static bool Push(ShardedEmbeddings tables, FeatureSchema schema, BatchIndex index, float[][] gradients, long batchId)
    {
        var ok = true;
        for (var t = 0; t < gradients.Length; t++)
        {
            var name = schema.Tables[t].Name;
            var result = tables.Push(name, index.UniqueIds[t], gradients[t], batchId, index.OccurrenceCounts(schema, t));
            ok &= result.Status != PushStatus.RejectedNonFinite;
        }
        return ok;
    }
}
