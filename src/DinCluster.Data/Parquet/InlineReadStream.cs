namespace DinCluster.Data;

/// <summary>
/// A read-only file stream whose async reads complete inline. Parquet.Net reads pages through
/// ReadAsync, which on a synchronous file handle .NET queues to the thread pool: a row group
/// would hop threads per page. Local reads are short, so doing them on the caller's thread is
/// cheaper and keeps a decode (and its allocations) on the thread that asked for it.
/// </summary>
internal sealed class InlineReadStream(string path) : Stream
{
    private readonly FileStream _file = new(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);

    public override bool CanRead => true;
    public override bool CanSeek => true;
    public override bool CanWrite => false;
    public override long Length => _file.Length;

    public override long Position
    {
        get => _file.Position;
        set => _file.Position = value;
    }

    public override int Read(byte[] buffer, int offset, int count) => _file.Read(buffer, offset, count);
    public override int Read(Span<byte> buffer) => _file.Read(buffer);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(_file.Read(buffer, offset, count));
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(_file.Read(buffer.Span));
    }

    public override long Seek(long offset, SeekOrigin origin) => _file.Seek(offset, origin);
    public override void Flush() { }
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) _file.Dispose();
        base.Dispose(disposing);
    }
}
