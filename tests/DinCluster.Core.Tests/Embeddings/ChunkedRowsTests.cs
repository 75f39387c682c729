using DinCluster.Core.Embeddings;

namespace DinCluster.Core.Tests.Embeddings;

public sealed class ChunkedRowsTests
{
    [Fact]
    public void Slab_keeps_every_row_when_chunk_0_doubles_and_further_chunks_are_added()
    {
        // 1 float a row, chunks of 1 KiB = 256 rows: chunk 0 doubles 64 -> 128 -> 256, then chunks are added.
        var slab = new ChunkedRows(width: 1, chunkBytes: 1024);
        var written = 0;
        foreach (var target in new[] { 1, 64, 65, 200, 256, 257, 1000 })
        {
            slab.EnsureCapacity(target);
            Assert.True(slab.Capacity >= target);
            for (; written < target; written++) slab.Row(written)[0] = written * 1.5f;
            for (var r = 0; r < written; r++) Assert.Equal(r * 1.5f, slab.Row(r)[0]);
        }
        Assert.Equal(1024, slab.Capacity); // 4 chunks of 256 rows
        Assert.Equal(1024 * sizeof(float), slab.Bytes);

        var wide = new ChunkedRows(width: 3, chunkBytes: 100); // 8 rows of 12 bytes per chunk
        wide.EnsureCapacity(20);
        for (var r = 0; r < 20; r++) wide.Row(r).Fill(r);
        for (var r = 0; r < 20; r++) Assert.Equal([r, r, r], wide.Row(r).ToArray());
    }
}
