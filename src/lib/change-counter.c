/* change-counter.c - a shared change number in a file; see change-counter.h. */
#include "lib/change-counter.h"

#include "lib/str.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

struct pp_change_counter {
	int fd;
};

int change_counter_open(const char *path, pp_change_counter_t **counter_r, char *error,
                        size_t error_size)
{
	*counter_r = NULL;
	pp_change_counter_t *counter = calloc(1, sizeof(*counter));
	if (counter == NULL) {
		(void)str_format(error, error_size, "change counter %s: out of memory", path);
		return -1;
	}
	counter->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (counter->fd < 0) {
		(void)str_format(error, error_size,
		                 "cannot open %s: %s; check that the state directory is writable",
		                 path, strerror(errno));
		free(counter);
		return -1;
	}
	*counter_r = counter;
	return 0;
}

void change_counter_close(pp_change_counter_t **counter)
{
	if (counter == NULL || *counter == NULL)
		return;
	(void)close((*counter)->fd);
	free(*counter);
	*counter = NULL;
}

/* Reads the number at offset 0; a short file reads its missing bytes as zero. */
static int change_counter_pread(int fd, uint64_t *value_r)
{
	unsigned char bytes[sizeof(uint64_t)] = {0};
	ssize_t n;
	do {
		n = pread(fd, bytes, sizeof(bytes), 0);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	/* Little-endian on the disk whatever the host: the file outlives no machine, but a
	 * fixed order costs nothing. */
	uint64_t value = 0;
	for (size_t i = sizeof(bytes); i > 0; i--)
		value = (value << 8) | bytes[i - 1];
	*value_r = value;
	return 0;
}

int change_counter_read(pp_change_counter_t *counter, uint64_t *value_r)
{
	return change_counter_pread(counter->fd, value_r);
}

int change_counter_bump(pp_change_counter_t *counter)
{
	int rc;
	do {
		rc = flock(counter->fd, LOCK_EX);
	} while (rc < 0 && errno == EINTR);
	if (rc < 0)
		return -1;
	uint64_t value = 0;
	rc = change_counter_pread(counter->fd, &value);
	if (rc == 0) {
		value++;
		unsigned char bytes[sizeof(uint64_t)];
		for (size_t i = 0; i < sizeof(bytes); i++)
			bytes[i] = (unsigned char)(value >> (8 * i));
		ssize_t n;
		do {
			n = pwrite(counter->fd, bytes, sizeof(bytes), 0);
		} while (n < 0 && errno == EINTR);
		if (n != (ssize_t)sizeof(bytes)) {
			if (n >= 0)
				errno = EIO;
			rc = -1;
		}
	}
	int saved = errno;
	(void)flock(counter->fd, LOCK_UN);
	errno = saved;
	return rc;
}
