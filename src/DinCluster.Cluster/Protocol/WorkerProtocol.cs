using Akka.Actor;

namespace DinCluster.Cluster.Protocol;

/// <summary>
/// Starts a worker: where the PS shards (by shard index), the dense parameters and the data
/// shards are, and the job's options. The sender is the coordinator.
/// </summary>
/// <paramref name="Generation"/>: the rollback generation its pushes carry (<see cref="PushGradients.Generation"/>).
public sealed record StartTraining(
    int WorkerIndex, int Workers, IActorRef[] PsShards, IActorRef Dense, IActorRef[] DataShards, TrainOptions Options, long Generation) : IDinMessage;

/// <summary>Reply to <see cref="StartTraining"/> once the worker has its model and dense weights.</summary>
public sealed record WorkerReady(int WorkerIndex) : IDinMessage;

/// <summary>BSP: compute global step <paramref name="Step"/> on the next batch.</summary>
public sealed record BeginStep(long Step) : IDinMessage;

/// <summary>SSP: the slowest active worker has completed <paramref name="MinClock"/> steps.</summary>
public sealed record ClockAdvanced(long MinClock) : IDinMessage;

/// <summary>Score one test row group with the current parameters (forward only).</summary>
public sealed record EvaluateRowGroup(int Epoch, int TaskId, RowGroupRef RowGroup) : IDinMessage;

/// <summary>One evaluation batch's predictions, aligned per sample.</summary>
public sealed record PredictionsScored(int Epoch, int TaskId, long[] Users, float[] Scores, float[] Labels) : IDinMessage;

public sealed record EvaluationTaskDone(int Epoch, int TaskId, long Samples) : IDinMessage;

public sealed record StopTraining : IDinMessage
{
    public static readonly StopTraining Instance = new();
}

/// <summary>Asks for the Dice running statistics of the worker's model (in the network's buffer layout).</summary>
public sealed record GetBuffers(int Epoch) : IDinMessage;

public sealed record WorkerBuffers(int WorkerIndex, int Epoch, float[] Buffers) : IDinMessage;

/// <summary>
/// Replaces the worker model's Dice running statistics. The coordinator sends the workers'
/// average before evaluation, so every worker scores the test set with one set of statistics.
/// </summary>
public sealed record SetBuffers(int Epoch, float[] Buffers) : IDinMessage;

/// <summary>
/// Coordinator -> worker, before a mid-epoch checkpoint (async/ssp): finish the batch being computed
/// or pushed, start no new step; reply <see cref="TrainingPaused"/> once nothing is half-applied.
/// </summary>
public sealed record PauseTraining(long Step) : IDinMessage;

/// <summary>Worker -> coordinator: every step this worker started is applied and reported; it computes nothing until <see cref="ContinueTraining"/>.</summary>
public sealed record TrainingPaused(int WorkerIndex, long Step) : IDinMessage;

/// <summary>Coordinator -> worker: the checkpoint is written; take steps again.</summary>
public sealed record ContinueTraining(long Step) : IDinMessage;

/// <summary>
/// Coordinator -> worker, on a rollback to a checkpoint: drop every batch held and every step in
/// flight, use <see cref="PsShards"/>, <see cref="Dense"/> and <see cref="DataShards"/> from now on (a lost
/// shard's replacement; the dense actor is replaced with PS shard 0), accept batches of
/// <see cref="Epoch"/> only, and ask the data shards for credit again. Replies <see cref="WorkerReset"/>.
/// </summary>
/// Pushes from now on carry <paramref name="Generation"/>.
public sealed record ResetTraining(int Epoch, IActorRef[] PsShards, IActorRef Dense, long Generation, IActorRef[] DataShards) : IDinMessage;

public sealed record WorkerReset(int WorkerIndex) : IDinMessage;
