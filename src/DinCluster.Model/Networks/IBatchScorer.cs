using DinCluster.Core.Batches;
using DinCluster.Core.Features;

namespace DinCluster.Model.Networks;

/// <summary>What evaluation needs of a model: its schema and the click probabilities of a batch.</summary>
public interface IBatchScorer
{
    FeatureSchema Schema { get; }
    float[] Predict(Batch batch, BatchIndex index, float[][] rows);
}
