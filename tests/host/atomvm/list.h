/* Test stand-in for AtomVM's list.h: the intrusive list a Context keeps
 * its extended x registers in (empty: next points at the head). */
#ifndef TEST_ATOMVM_LIST_H
#define TEST_ATOMVM_LIST_H
#include <stdbool.h>

struct ListHead
{
    struct ListHead *next;
    struct ListHead *prev;
};

static inline void list_init(struct ListHead *head)
{
    head->next = head;
    head->prev = head;
}

static inline bool list_is_empty(const struct ListHead *head) { return head->next == head; }
#endif
