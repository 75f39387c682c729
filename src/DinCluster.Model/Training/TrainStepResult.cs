namespace DinCluster.Model.Training;

/// <summary>
/// What one train step hands back, all in plain arrays.
/// <code>
///   Loss             mean binary cross-entropy of the batch
///   Predictions      float[Count], sigmoid of the logits (training-mode forward)
///   DenseGradient    float[DenseLayout.Total], d loss / d dense weights, flat
///   RowGradients[t]  float[UniqueIds[t].Length * dim]: one summed gradient row per unique id of table t
/// </code>
/// </summary>
public sealed record TrainStepResult(float Loss, float[] Predictions, float[] DenseGradient, float[][] RowGradients);

/// <summary>Loss and predictions of an inference-mode forward (no gradients).</summary>
public sealed record Evaluation(float Loss, float[] Predictions);
