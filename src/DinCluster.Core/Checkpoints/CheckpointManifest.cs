using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace DinCluster.Core.Checkpoints;

/// <summary>
/// manifest.json of a checkpoint: what it holds and a SHA-256 per file. A checkpoint
/// directory without a manifest, or whose files do not match it, is not a checkpoint.
/// </summary>
public sealed class CheckpointManifest
{
    public const int CurrentFormat = 1;
    public int Format { get; set; } = CurrentFormat;
    public long Step { get; set; }
    public int Epoch { get; set; }
    /// <summary>True when <see cref="Epoch"/> was finished when this was written.</summary>
    public bool EpochComplete { get; set; }
    public DateTime CreatedUtc { get; set; }
    public List<CheckpointFile> Files { get; set; } = [];
    /// <summary>Free-form facts the writer wants back on restore (shard count, data offsets, ...).</summary>
    public Dictionary<string, string> Meta { get; set; } = [];

    internal static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static string Sha256Of(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}

public sealed record CheckpointFile(string Name, long Bytes, string Sha256);
