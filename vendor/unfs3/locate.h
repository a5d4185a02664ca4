
/*
 * UNFS3 brute force file search
 * (C) 2004, Pascal Schmidt
 * see file LICENSE for license details
 */

#ifndef UNFS3_LOCATE_H
#define UNFS3_LOCATE_H

char *locate_file(uint32 dev, uint64 ino);

#endif
